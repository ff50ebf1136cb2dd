"""Whether one class can stand in for another: signatures and interfaces compared, in words."""

from __future__ import annotations

from dataclasses import dataclass

from ssot_migrate.interfaces.records import (
    ClassInterface,
    InterfaceComparison,
    MethodMismatch,
    MethodSignature,
)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _arity(signature: MethodSignature) -> str:
    low, high = signature.required_positional, signature.max_positional
    if high is None:
        return (
            f"{low} or more positional arguments" if low else "any number of positional arguments"
        )
    if low == high:
        return _plural(low, "positional argument")
    return f"{low} to {high} positional arguments"


def _short_arity(signature: MethodSignature) -> str:
    text = _arity(signature)
    return text.replace(" positional arguments", "").replace(" positional argument", "")


@dataclass(frozen=True)
class Voice:
    """How mismatch messages name the two sides of a comparison.

    By default the candidate (a facade) is the implicit subject: "is sync but canonical's is
    async". Comparing a test double the other way round (every call valid on the canonical must
    work on the double) makes the canonical the subject: "the canonical is async but the
    double's is sync".
    """

    subject: str = ""
    other: str = "canonical"
    possessive: str = ""
    on_subject: str = ""


DOUBLE_VOICE = Voice("the canonical ", "the double", "the canonical's ", " on the canonical")


def compare_signatures(
    candidate: MethodSignature, canonical: MethodSignature, *, voice: Voice | None = None
) -> list[MethodMismatch]:
    """Every way a call valid on ``candidate`` could fail (or behave differently) on ``canonical``.

    ``voice`` names the two sides in the messages; by default the candidate is the implicit
    subject and the other side is "canonical" (see :data:`DOUBLE_VOICE` for the reverse check).
    """
    v = voice or Voice()
    name = candidate.name
    label = f"{name}()"
    found: list[MethodMismatch] = []

    def add(message: str, breaking: bool = True) -> None:
        found.append(MethodMismatch(name, f"{label}: {message}", breaking))

    if (candidate.kind == "property") != (canonical.kind == "property"):
        mine = "a property" if candidate.kind == "property" else "a method"
        theirs = "a property" if canonical.kind == "property" else "a method"
        add(f"{v.subject}is {mine} but {v.other}'s is {theirs}")
        return found
    if candidate.is_async != canonical.is_async:
        mine = "async" if candidate.is_async else "sync"
        theirs = "async" if canonical.is_async else "sync"
        add(f"{v.subject}is {mine} but {v.other}'s is {theirs}")
    if candidate.kind == "property":
        return found
    if candidate.kind != canonical.kind and "classmethod" in (candidate.kind, canonical.kind):
        # Reachable on the class itself in one case only: ``Facade.method(...)`` breaks.
        if candidate.kind in ("classmethod", "staticmethod"):
            add(f"{v.subject}is a {candidate.kind} but {v.other}'s is {_article(canonical.kind)}")
    elif candidate.kind == "staticmethod" and canonical.kind == "method":
        add(f"{v.subject}is a staticmethod but {v.other}'s is a method")
    # Positional arity: every count the candidate accepts must be accepted by the canonical.
    low_ok = canonical.required_positional <= candidate.required_positional
    c_high, k_high = candidate.max_positional, canonical.max_positional
    high_ok = k_high is None or (c_high is not None and c_high <= k_high)
    if not (low_ok and high_ok):
        if candidate.max_positional == canonical.max_positional and not low_ok:
            optional = [
                p
                for p in candidate.positional[canonical.required_positional :]
                if p in dict(candidate.defaults)
            ][: canonical.required_positional - candidate.required_positional]
            which = ", ".join(f"'{p}'" for p in optional) or "an argument"
            add(f"{which} is optional{v.on_subject} but {v.other} requires it")
        else:
            add(
                f"{v.subject}takes {_arity(candidate)} but {v.other} takes {_short_arity(canonical)}"
            )
    # Names of parameters a caller may pass by keyword.
    canonical_keywords = canonical.keyword_names
    for index, param in enumerate(candidate.positional):
        if index < candidate.posonly:
            continue
        renamed = index < len(canonical.positional) and canonical.positional[index] != param
        by_keyword = index >= canonical.posonly or param in canonical_keywords
        if renamed and by_keyword:
            add(
                f"{v.possessive}positional parameter {index + 1} is '{param}' but {v.other}'s is "
                f"'{canonical.positional[index]}'"
            )
            continue
        if param not in canonical_keywords and not canonical.varkw:
            add(f"{v.subject}accepts keyword '{param}' but {v.other} does not")
    for param in candidate.keyword_only:
        if param not in canonical_keywords and not canonical.varkw:
            add(f"{v.subject}accepts keyword '{param}' but {v.other} does not")
    if candidate.varkw and not canonical.varkw:
        add(f"{v.subject}accepts **kwargs but {v.other} does not")
    candidate_optional = set(dict(candidate.defaults))
    for param in canonical.required_keyword_only:
        if param not in candidate.required_keyword_only:
            if param in candidate_optional:
                add(f"keyword '{param}' is optional{v.on_subject} but {v.other} requires it")
            else:
                add(
                    f"{v.other} requires keyword '{param}' which {v.subject or 'this '}does not take"
                )
    # Same parameter, both optional, different default: the call works, the behaviour may not.
    canonical_defaults = dict(canonical.defaults)
    for param, value in candidate.defaults:
        other = canonical_defaults.get(param)
        if other is not None and other != value:
            add(
                f"{v.possessive}default of '{param}' is {value} but {v.other}'s is {other}",
                breaking=False,
            )
    return found


def _article(kind: str) -> str:
    return "a plain method" if kind == "method" else f"a {kind}"


def compare(candidate: ClassInterface, canonical: ClassInterface) -> InterfaceComparison:
    """Compare ``candidate`` (facade, mock, duplicate) against ``canonical``, member by member.

    Every public method and attribute of the candidate must exist on the canonical with a
    same-or-more-permissive signature and the same async-ness for ``is_compatible`` to hold;
    the constructor must accept every call the candidate's accepted (an alias is constructed in
    its place). Members a canonical's unreadable base might provide still count as missing, with
    that said in the message.
    """
    mine, theirs = candidate.public_methods, canonical.public_methods
    common = sorted(mine & theirs)
    union = mine | theirs
    overlap = 100.0 if not union else round(100.0 * len(common) / len(union), 1)
    mismatches: list[MethodMismatch] = []
    unknown = ""
    if canonical.unresolved_bases:
        unknown = f" (canonical also inherits from {', '.join(canonical.unresolved_bases)}, which could not be read)"
    canonical_attrs = canonical.attributes | set(canonical.methods)
    for name in sorted(mine - theirs):
        signature = candidate.methods[name]
        if signature.kind == "property" and name in canonical.attributes:
            continue  # a plain attribute reads the same as a property
        mismatches.append(MethodMismatch(name, f"{name}(): not defined on canonical{unknown}"))
    for name in common:
        mismatches.extend(compare_signatures(candidate.methods[name], canonical.methods[name]))
    extra_attributes = sorted(a for a in candidate.public_attributes if a not in canonical_attrs)
    for name in extra_attributes:
        mismatches.append(
            MethodMismatch(name, f"attribute '{name}': not defined on canonical{unknown}")
        )
    missing_attributes = sorted(
        a
        for a in canonical.public_attributes
        if a not in candidate.attributes | set(candidate.methods)
    )
    if candidate.constructor is not None and canonical.constructor is None:
        mismatches.append(
            MethodMismatch(
                "__init__",
                "__init__(): canonical's constructor is inherited from a base that could not be read",
            )
        )
    elif candidate.constructor is not None and canonical.constructor is not None:
        mismatches.extend(compare_signatures(candidate.constructor, canonical.constructor))
    return InterfaceComparison(
        candidate=candidate.qualname or candidate.name,
        canonical=canonical.qualname or canonical.name,
        overlap=overlap,
        common=tuple(common),
        missing=tuple(sorted(theirs - mine)),
        extra=tuple(sorted(mine - theirs)),
        missing_attributes=tuple(missing_attributes),
        extra_attributes=tuple(extra_attributes),
        mismatches=tuple(mismatches),
    )


def compare_double(double: ClassInterface, canonical: ClassInterface) -> InterfaceComparison:
    """Whether ``double`` can stand in for ``canonical``: the reverse of :func:`compare`.

    Code under test calls the double the way it calls the canonical, so every canonical public
    method and attribute must exist on the double and accept every call the canonical accepts.
    What the double adds (``events``, ``event_types()`` for the test to inspect) and how it is
    constructed are the test's business and are not drift. Members an unreadable base of the
    double might provide (``MagicMock``) are not reported missing. Canonical instance attributes
    the double lacks are listed in ``missing_attributes`` but, as in :func:`compare`, are not
    mismatches: instance state a double need not copy.
    """
    mine, theirs = double.public_methods, canonical.public_methods
    common = sorted(mine & theirs)
    union = mine | theirs
    overlap = 100.0 if not union else round(100.0 * len(common) / len(union), 1)
    opaque = bool(double.unresolved_bases)
    mismatches: list[MethodMismatch] = []
    double_members = double.attributes | set(double.methods)
    missing = () if opaque else tuple(sorted(theirs - mine))
    for name in missing:
        signature = canonical.methods[name]
        if signature.kind == "property" and name in double.attributes:
            continue
        mismatches.append(
            MethodMismatch(name, f"{name}(): the canonical has it but the double does not")
        )
    for name in common:
        mismatches.extend(
            compare_signatures(canonical.methods[name], double.methods[name], voice=DOUBLE_VOICE)
        )
    # Listed, not counted as drift (as in ``compare``): instance state a double need not copy.
    missing_attributes = (
        ()
        if opaque
        else tuple(sorted(a for a in canonical.public_attributes if a not in double_members))
    )
    return InterfaceComparison(
        candidate=double.qualname or double.name,
        canonical=canonical.qualname or canonical.name,
        overlap=overlap,
        common=tuple(common),
        missing=missing,
        extra=tuple(sorted(mine - theirs)),
        missing_attributes=missing_attributes,
        extra_attributes=tuple(
            sorted(
                a
                for a in double.public_attributes
                if a not in canonical.attributes | set(canonical.methods)
            )
        ),
        mismatches=tuple(mismatches),
    )
