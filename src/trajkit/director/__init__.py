"""GenDoP family: text → camera path (tagger, tokenizer, autoregressive model, metrics)."""
