"""Regenerate the configuration reference in README.md from aggregator.config (run after adding a setting)."""

import re
from pathlib import Path

from aggregator.config import reference_markdown

readme = Path(__file__).resolve().parent.parent / "README.md"
text = readme.read_text(encoding="utf-8")
new = re.sub(
    r"(<!-- config-reference:start[^\n]*-->\n).*?(<!-- config-reference:end -->)",
    lambda m: m.group(1) + reference_markdown() + m.group(2),
    text,
    flags=re.S,
)
readme.write_text(new, encoding="utf-8")
print("README.md reference updated" if new != text else "README.md reference already current")
