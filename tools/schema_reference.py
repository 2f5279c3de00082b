"""Print the field reference of the scenario format (docs/scenarios.md, section "Every field"),
generated from the pydantic schema so that it cannot drift from the code.

    .venv/bin/python tools/schema_reference.py
"""

from __future__ import annotations

from pydantic import BaseModel

from politburo.scenario import schema as sc

MODELS = (sc.Scenario, sc.Founder, sc.Question, sc.Axis, sc.Bodies, sc.InnerBody, sc.Rules,
          sc.Traits, sc.Powers, sc.Principal, sc.Attributes, sc.Position, sc.Client, sc.Office,
          sc.Interest, sc.Meeting, sc.Event, sc.Response, sc.Quantity, sc.Prior, sc.Milestone,
          sc.Fit, sc.FitTally, sc.FitAlignment, sc.Lever, sc.LeverValue, sc.Claim, sc.Source)


def _type(ann: object) -> str:
    text = str(ann) if getattr(ann, "__args__", None) else (getattr(ann, "__name__", None)
                                                             or str(ann))
    for noise in ("typing.", "politburo.scenario.schema.", "Annotated[", "<class '", "'>"):
        text = text.replace(noise, "")
    import re

    text = re.sub(r"FieldInfo\(annotation=NoneType[^)]*?description='([^']*)'.*?\)\]\)",
                  r"\1", text)
    text = re.sub(r"FieldInfo\(annotation=NoneType.*?\)\]\)", "id", text)
    return text.replace("|", "or").replace("Union[str, ", "").rstrip("]") if "Union[str, " \
        in text else text.replace("|", "or")


def table(model: type[BaseModel]) -> str:
    rows = [f"### `{model.__name__}`", "", (model.__doc__ or "").strip().split("\n\n")[0], "",
            "| field | type | required | meaning |", "|---|---|---|---|"]
    for name, f in model.model_fields.items():
        desc = (f.description or "").replace("|", "/")
        rows.append(f"| `{name}` | `{_type(f.annotation)}` | "
                    f"{'yes' if f.is_required() else 'no'} | {desc} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print("\n\n".join(table(m) for m in MODELS))
