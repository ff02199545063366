// Undo/redo over immutable snapshots of the document (JSON strings: cheap to compare, impossible to alias).

export class History {
  constructor(limit = 200) { this.limit = limit; this.past = []; this.future = []; this.current = null; }

  reset(doc) { this.past = []; this.future = []; this.current = JSON.stringify(doc); }

  push(doc) {
    const next = JSON.stringify(doc);
    if (next === this.current) return false;
    if (this.current !== null) this.past.push(this.current);
    if (this.past.length > this.limit) this.past.shift();
    this.current = next;
    this.future = [];
    return true;
  }

  undo() {
    if (!this.past.length) return null;
    this.future.push(this.current);
    this.current = this.past.pop();
    return JSON.parse(this.current);
  }

  redo() {
    if (!this.future.length) return null;
    this.past.push(this.current);
    this.current = this.future.pop();
    return JSON.parse(this.current);
  }

  get canUndo() { return this.past.length > 0; }
  get canRedo() { return this.future.length > 0; }
}
