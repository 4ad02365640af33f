"""GGUF model files in plain Python, for engines whose library cannot read them as is.

- metadata.py: a GGUF's key/value metadata, fast (no tensors);
- tokenizer.py: its byte-level BPE tokenizer, rebuilt with `tokenizers`;
- chat_template.py: its Jinja2 chat template, rendered as llama-cpp-python does;
- ctransformers_rewrite.py: the copy of a GGUF that ctransformers' 2023 loader accepts.
"""
