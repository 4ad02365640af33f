"""A GGUF's Jinja2 chat template, rendered as llama-cpp-python's Jinja2ChatFormatter does.

Engines that tokenize in Python (ctransformers) render chat prompts here, so that a
chat reaches the model as exactly the text, and so the tokens, the llama_cpp
engine gives it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


class ChatTemplate:
    """Same sandbox and whitespace options (trim_blocks, lstrip_blocks, loop controls),
    same variables (bos_token, eos_token, add_generation_prompt=True,
    raise_exception, strftime_now) and a tojson that keeps non-ASCII as is.

    Raises ImportError without Jinja2 and ValueError for a template it cannot parse;
    render() raises ValueError where the template itself refuses a chat.
    """

    def __init__(self, template: str, bos_token: str, eos_token: str) -> None:
        import jinja2.ext
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment(
            loader=jinja2.BaseLoader(),
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=[jinja2.ext.loopcontrols],
        )
        env.filters["tojson"] = _tojson
        try:
            self._template = env.from_string(template)
        except jinja2.TemplateError as bad:
            raise ValueError(f"its chat template does not parse ({bad})") from None
        self.bos_token, self.eos_token = bos_token, eos_token

    def render(self, messages: list[dict[str, Any]]) -> str:
        return self._template.render(
            messages=messages,
            bos_token=self.bos_token,
            eos_token=self.eos_token,
            add_generation_prompt=True,
            raise_exception=_raise_template_error,
            strftime_now=lambda fmt: datetime.now().strftime(fmt),
        )


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


def _raise_template_error(message: str) -> None:
    raise ValueError(message)
