"""SQL turning raw lines and pages into typed records, built only from code-owned specs."""

from __future__ import annotations

import json

from lead_parity.pipeline.ingest.sources import FORM_VALUE_NAMES, Entity, Field, Source
from lead_parity.pipeline.redaction import mask_emails_sql


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """A SQL string literal for a code-owned constant (JSON paths, key names), never data."""
    return "'" + text.replace("'", "''") + "'"


# What Arrow's utf8_trim_whitespace (and Python's str.strip) trims among ASCII characters.
_ASCII_WHITESPACE = "||".join(f"chr({c})" for c in (9, 10, 11, 12, 13, 28, 29, 30, 31, 32))


def _is_ascii(value: str) -> str:
    """True when `value` is ASCII: as many bytes as characters."""
    return f"strlen({value}) = length({value})"


def _email(raw: str) -> str:
    """SPEC section 4's email normalisation for ASCII values, which NFKC leaves as they are:
    trimmed, lower-cased, empty becomes null. Other values stay raw here and the engine
    normalises them afterwards (`raw_emails_sql`): a Python function called from this query
    costs DuckDB about a millisecond per vector it appears in, 40% of a Segment parse."""
    return (
        f"case when {_is_ascii(raw)} "
        f"then nullif(lower(trim({raw}, {_ASCII_WHITESPACE})), '') else {raw} end"
    )


def email_columns(source: Source, entity: Entity) -> list[str]:
    """Landed columns whose non-ASCII values the engine must still normalise."""
    names = [f.name for f in entity.fields if f.kind == "email"]
    return names + (["email"] if source.name == "hubspot_forms" else [])


def raw_emails_sql(table: str, columns: list[str]) -> str:
    """The distinct values of `columns` in `table` that `_email` left raw, as `raw`."""
    return " union ".join(
        f"select {_quote_ident(c)} as raw from {table} where not {_is_ascii(_quote_ident(c))}"
        for c in columns
    )


def _typed(field: Field, raw: str) -> str:
    if field.kind == "ts":
        return (
            f"case when {raw} is null then null "
            f"when regexp_full_match({raw}, '-?[0-9]{{11,}}') "
            f"then epoch_ms(try_cast({raw} as bigint)) "
            f"else try_cast({raw} as timestamptz)::timestamp end"
        )
    if field.kind == "int":
        return f"try_cast(try_cast({raw} as double) as integer)"
    if field.kind == "bool":
        return f"try_cast({raw} as boolean)"
    if field.kind == "email":
        return _email(raw)
    return raw


def _not_an_object(text: str) -> str:
    """True when `text`, valid JSON, is not an object. Text starting with "{" is one, so only the
    rest pays json_type's parse (a nested CASE: DuckDB's AND would evaluate both sides)."""
    return f"case when starts_with({text}, '{{') then false else json_type({text}) <> 'OBJECT' end"


def pages_sql(arrays: tuple[str, ...]) -> str:
    """Each page of `batch` with its shape read once for all its entities: `array_types` (the
    JSON type at each of `arrays`) and `page_reason`, null when the page is a JSON object holding
    one of `arrays` as an array.

    json_type raises on invalid JSON and DuckDB does not short-circuit AND: nested CASEs keep the
    parses to the pages that need them.
    """
    paths = "[" + ", ".join(_literal(a) for a in arrays) + "]"
    names = ", ".join(a.removeprefix("$.") for a in arrays)
    return f"""
        with shaped as (
            select file, form_guid, text,
                case
                    when not json_valid(text) then 'page is not valid JSON'
                    when {_not_an_object("text")} then 'page is not a JSON object'
                end as shape_reason
            from batch
        ),
        typed as (
            select *, case when shape_reason is null then json_type(text, {paths}) end
                as array_types
            from shaped
        )
        select file, form_guid, text, array_types,
            coalesce(
                shape_reason,
                case when not list_contains(array_types, 'ARRAY')
                    then {_literal("page has no " + names + " array")} end
            ) as page_reason
        from typed
    """


def page_records_sql(entity: Entity, all_arrays: tuple[str, ...]) -> str:
    """Unnest the entity's array of each page of `pages` (`pages_sql`); a page that is unusable
    yields one bad record."""
    # A bad page is reported once, under the source's first entity, so it counts once.
    bad_page = (
        """
        union all
        select file, 0 as position, text as rec, page_reason, form_guid
        from pages
        where page_reason is not null
        """
        if entity.array == all_arrays[0]
        else ""
    )
    index = all_arrays.index(entity.array) + 1
    return f"""
        with good as (
            select file, form_guid, json_extract(text, {_literal(entity.array + "[*]")}) as recs
            from pages
            where page_reason is null and array_types[{index}] = 'ARRAY'
        )
        select file, unnest(range(len(recs))) as position, unnest(recs)::varchar as rec,
            cast(null as varchar) as page_reason, form_guid
        from good
        {bad_page}
    """


def _json_structure(fields: tuple[Field, ...]) -> dict:
    """The json_transform structure reading every field's path as its JSON text: one parse per
    record. The text's first character tells the value's JSON type (`_json_type`); a path through
    something that is not an object gives null.
    """
    structure: dict = {}
    for f in fields:
        *parents, leaf = _path_keys(f.path)
        node = structure
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = "JSON"
    return structure


# The first character of a JSON value's text names its type (as a code point, compared as ints).
_FIRST_CHARS = {
    "string": (34,),  # "
    "number": (45, *range(48, 58)),  # - 0-9
    "boolean": (102, 116),  # f t
}


def _json_type(c: str) -> str:
    """The JSON type name of a value whose text starts with the code point `c`."""
    return (
        f"case {c} when 34 then 'string' when 123 then 'object' when 91 then 'array' "
        f"when 116 then 'boolean' when 102 then 'boolean' else 'number' end"
    )


def _type_check(c: str, accepts: tuple[str, ...], key: str) -> str:
    """A reason when the value whose text starts with code point `c` (null: no value) is of a
    JSON type outside `accepts`, else null."""
    expected = " or ".join(accepts)
    return (
        f"case when {_is_wrong(c, accepts)} then "
        f"{_literal('wrong type for ' + key + ': expected ' + expected + ', got ')} || "
        f"{_json_type(c)} end"
    )


def _is_wrong(c: str, accepts: tuple[str, ...]) -> str:
    codes = [code for t in accepts for code in _FIRST_CHARS[t]]
    return f"{c} not in ({', '.join(map(str, codes))})"


def _type_checks(checks: list[tuple[str, tuple[str, ...], str]]) -> str:
    """The reasons of every wrong-typed field, built only for a record that has one: a cheap
    integer test per field first, the texts for the few records that fail it."""
    if not checks:
        return "null"
    any_wrong = " or ".join(_is_wrong(c, accepts) for c, accepts, _ in checks)
    reasons = ", ".join(_type_check(c, accepts, key) for c, accepts, key in checks)
    return f"case when {any_wrong} then concat_ws('; ', {reasons}) end"


def _as_text(j: str) -> str:
    """The value of JSON text `j` as text: a string unquoted and unescaped, a number its digits,
    an object or array its JSON text (quarantined by the type check)."""
    return f"json_transform({j}, '\"VARCHAR\"')"


def _path_keys(path: str) -> list[str]:
    """'$.context.traits.email' -> ['context', 'traits', 'email'] (code-owned paths only)."""
    return path.removeprefix("$.").split(".")


def _struct_path(column: str, path: str) -> str:
    return column + "".join(f"[{_literal(k)}]" for k in _path_keys(path))


def parse_sql(source: Source, entity: Entity, records: str) -> str:
    """Typed columns plus `_reason` (null when the record is valid) for every raw record."""
    fields = entity.fields
    structure = _json_structure(fields)
    json_cols = [_struct_path("v", f.path) for f in fields]
    # Each field's JSON text as _j1.._jn; then its value as text as _s1.._sn (the raw value) and
    # the code point its JSON text starts with as _c1.._cn (its type).
    texts = [f"{j}::varchar as _j{i + 1}" for i, j in enumerate(json_cols)]
    values = [f"{_as_text(f'_j{i + 1}')} as _s{i + 1}" for i in range(len(fields))]
    values += [f"ascii(_j{i + 1}) as _c{i + 1}" for i in range(len(fields))]
    raw_cols = [f"_s{i + 1}" for i in range(len(fields))]
    pairs = list(zip(fields, raw_cols, strict=True))
    # Typed once, in their own CTE, as _t1.._tn: the timestamp checks reuse them.
    typed_exprs = [f"{_typed(f, raw)} as _t{i + 1}" for i, (f, raw) in enumerate(pairs)]
    typed = [f"_t{i + 1} as {_quote_ident(f.name)}" for i, f in enumerate(fields)]
    checks = []
    type_checks: list[tuple[str, tuple[str, ...], str]] = []  # (code column, accepts, key)
    for i, (f, raw) in enumerate(pairs):
        key = f.path.removeprefix("$.")
        type_checks.append((f"_c{i + 1}", f.json_types, key))
        if f.name in entity.required:
            checks.append(f"case when {raw} is null then {_literal('missing ' + key)} end")
        if f.kind == "ts":
            checks.append(
                f"case when {raw} is not null and _t{i + 1} is null "
                f"then {_literal('unparsable timestamp ' + key + ': ')} || "
                # The reason travels further than the raw text (SLO details, incidents): the
                # value is quoted with its emails masked; `_raw` keeps it whole.
                f"left({mask_emails_sql(raw)}, 80) end"
            )
    extra_cols: list[str] = []
    if source.name == "hubspot_forms":
        # Read as a list of (name, value) text pairs in the record's one json_transform: a value
        # that is not an object, or a `values` that is not a list, matches no name.
        structure["values"] = [{"name": "VARCHAR", "value": "JSON"}]
        for j, name in enumerate(FORM_VALUE_NAMES):
            texts.append(
                f"list_filter(v['values'], lambda x: x['name'] = {_literal(name)})[1]['value']"
                f"::varchar as _fj{j}"
            )
            values.append(f"{_as_text(f'_fj{j}')} as _v{j}")
            values.append(f"ascii(_fj{j}) as _fc{j}")
            # HubSpot sends every form value as a string.
            type_checks.append((f"_fc{j}", ("string",), f"values.{name}"))
            value = _email(f"_v{j}") if name == "email" else f"_v{j}"
            extra_cols.append(f"{value} as {_quote_ident(name)}")
        extra_cols.append(
            f"coalesce({raw_cols[0]}, 'h:' || md5(coalesce(form_guid, '') || '|' || "
            "coalesce(json_extract_string(rec, '$.submittedAt'), '') || '|' || "
            "coalesce(json_extract(rec, '$.values')::varchar, ''))) as submission_key"
        )
        extra_cols.append("form_guid")
    checks.append(_type_checks(type_checks))
    validity = " , ".join(checks)
    if entity.validated_types:
        types = ", ".join(_literal(t) for t in entity.validated_types)
        type_raw = raw_cols[[f.name for f in fields].index("type")]
        reason = (
            f"case when {type_raw} is null then 'missing type' "
            f"when {type_raw} in ({types}) then nullif(concat_ws('; ', {validity}), '') end"
        )
    else:
        reason = f"nullif(concat_ws('; ', {validity}), '')"
    # Check json_valid before anything parses the text: a bad line must become a reason, not an
    # error. A page's records are valid JSON already: DuckDB cut them out of a valid page.
    valid = "" if source.shape == "page" else "when not json_valid(rec) then 'not valid JSON'"
    return f"""
        with recs as ({records}),
        checked as (
            select *,
                case
                    when page_reason is not null then page_reason
                    {valid}
                    when {_not_an_object("rec")} then 'record is not a JSON object'
                end as shape_reason
            from recs
        ),
        extracted as (
            select *,
                case when shape_reason is null
                    then json_transform(rec, {_literal(json.dumps(structure))}) end as v
            from checked
        ),
        texts as (
            select *, {", ".join(texts)} from extracted
        ),
        valued as (
            select *, {", ".join(values)} from texts
        ),
        typed as (
            select *, {", ".join(typed_exprs)} from valued
        ),
        reasoned as (
            select *, coalesce(shape_reason, {reason}) as _reason from typed
        )
        select
            {", ".join(typed + extra_cols)},
            file as _file,
            position as _position,
            _reason,
            -- Only a quarantined record keeps its text, without the line ending it was read with.
            case when _reason is not null then rtrim(rec, chr(13) || chr(10)) end as _raw
        from reasoned
    """
