// Small geometry helpers in image pixels.

// distance from p to the segment a–b
export function pointSegmentDistance(p, a, b) {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2)) : 0;
  return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
}

// Ramer–Douglas–Peucker: the few control points of a freehand stroke (endpoints always kept).
export function simplify(points, epsilon) {
  if (points.length < 3) return points.slice();
  let index = 0, worst = 0;
  for (let i = 1; i < points.length - 1; i++) {
    const d = pointSegmentDistance(points[i], points[0], points[points.length - 1]);
    if (d > worst) { worst = d; index = i; }
  }
  if (worst <= epsilon) return [points[0], points[points.length - 1]];
  const left = simplify(points.slice(0, index + 1), epsilon);
  return left.slice(0, -1).concat(simplify(points.slice(index), epsilon));
}

// Simplify with a growing tolerance until at most `max` points remain.
export function controlPoints(points, epsilon, max = 32) {
  let out = simplify(points, epsilon);
  while (out.length > max) { epsilon *= 1.5; out = simplify(points, epsilon); }
  return out;
}

export function pathLength(points) {
  let total = 0;
  for (let i = 1; i < points.length; i++) total += Math.hypot(points[i][0] - points[i - 1][0], points[i][1] - points[i - 1][1]);
  return total;
}

export const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]);
