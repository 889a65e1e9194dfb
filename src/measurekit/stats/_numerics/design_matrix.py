"""Design matrices for regression models: numeric columns as they are, categorical ones dummy coded."""
from __future__ import annotations

from measurekit.problems import InputError, ProblemReport


def _is_categorical(s) -> bool:
    import pandas as pd

    return (isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_string_dtype(s.dtype)
            or pd.api.types.is_bool_dtype(s.dtype) and False)


def design_matrix(df, columns, reference: dict | None = None):
    """Numeric design (no intercept) for ``columns`` of ``df``, with categorical columns dummy-coded.

    Numeric columns (including 0/1 flags and booleans) enter as they are. Text and categorical
    columns become one 0/1 column per level except the reference level, named ``<column>_<level>``
    (as R's ``model.matrix`` with treatment contrasts). The reference level is, in order:
    ``reference[column]`` if given; the first category of a pandas Categorical (R's first factor
    level); otherwise the most frequent level (ties: alphabetical first).

    Returns ``(X, terms)``: ``X`` a float DataFrame indexed like ``df`` (NaN where the source is
    missing) and ``terms`` a dict ``column -> {"columns": [...], "reference": level or None}``.
    """
    import pandas as pd

    reference = reference or {}
    parts, terms = [], {}
    for col in columns:
        s = df[col]
        if _is_categorical(s):
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = [lv for lv in s.cat.categories if (s == lv).any()]
            else:
                counts = s.dropna().astype(str).value_counts()
                levels = sorted(counts.index, key=lambda lv: (-counts[lv], lv))
                s = s.where(s.isna(), s.astype(str))
            ref = reference.get(col, levels[0] if levels else None)
            if ref is not None and ref not in levels:
                from measurekit.problems import InputError

                raise InputError.of("unknown_reference",
                                    f"The reference level {ref!r} of {col!r} does not occur in the "
                                    f"data (levels: {', '.join(map(str, levels))}).", column=str(col), value=str(ref))
            names = []
            for lv in levels:
                if lv == ref:
                    continue
                name = f"{col}_{lv}"
                parts.append((s == lv).astype(float).where(s.notna()).rename(name))
                names.append(name)
            terms[col] = {"columns": names, "reference": ref}
        else:
            parts.append(pd.to_numeric(s, errors="coerce").astype(float).rename(col))
            terms[col] = {"columns": [col], "reference": None}
    X = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=df.index)
    return X, terms


def check_columns(frame, columns, what: str = "predictor") -> None:
    """Raise ``InputError`` naming every column that is absent or entirely missing."""
    report = ProblemReport(title="Model input")
    for col in columns:
        if col not in frame.columns:
            report.add("unknown_column", f"The {what} {col!r} is not a column of the data.", column=col)
        elif frame[col].isna().all():
            report.add("all_missing", f"The {what} {col!r} is missing for everyone, so it cannot be used.", column=col)
    report.raise_if_errors(InputError)
