"""Declarative connector specs: typed models of credentials and connection params.

Each adapter declares one :class:`ConnectorSpec`. Validation, CLI prompts, MCP listings and
log redaction all read it, so there is no second list of field names anywhere. Secret fields
are typed ``SecretStr``: their values never appear in an error, a repr or a listing.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from growthnav.connectors.exceptions import ConfigurationError
from growthnav.conversions import ConversionSource, ConversionType
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

C = TypeVar("C", bound="SpecModel")
P = TypeVar("P", bound="SpecModel")


class SpecModel(BaseModel):
    """Base of credential and parameter models: unknown fields are errors, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class RecordKindParams(SpecModel):
    """Params of a source that may hold any kind of records: the user says what they are.

    Files and warehouse tables hold POS orders as readily as CRM leads.
    """

    source: ConversionSource = Field(
        default=ConversionSource.OTHER,
        description="what kind of system the records come from: pos, crm, olo, loyalty, ecommerce",
    )
    conversion_type: ConversionType = Field(
        default=ConversionType.PURCHASE, description="purchase, lead, signup or custom"
    )


class NoCredentials(SpecModel):
    """For sources that need no credentials."""


@dataclass(frozen=True)
class FieldSpec:
    """One field of a spec, as shown to people and tools."""

    name: str
    group: str
    required: bool
    secret: bool
    description: str


@dataclass(frozen=True)
class Validated(Generic[C, P]):
    """A config's credentials and params, validated."""

    credentials: C | None
    params: P


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or (
        hasattr(annotation, "__args__") and SecretStr in getattr(annotation, "__args__", ())
    )


@dataclass(frozen=True)
class ConnectorSpec(Generic[C, P]):
    """What a connector type needs: its credentials model and its connection-params model."""

    credentials: type[C]
    params: type[P]

    def fields(self) -> list[FieldSpec]:
        """Every field, credentials first, with whether it is required and secret."""
        out = []
        for group, model in (("credentials", self.credentials), ("connection_params", self.params)):
            for name, info in model.model_fields.items():
                out.append(
                    FieldSpec(
                        name=name,
                        group=group,
                        required=info.is_required(),
                        secret=_is_secret(info.annotation),
                        description=info.description or "",
                    )
                )
        return out

    @property
    def secret_fields(self) -> frozenset[str]:
        """Names of the credential fields whose values are secret."""
        return frozenset(f.name for f in self.fields() if f.secret)

    def validate(
        self,
        connector: str,
        credentials: Mapping[str, Any] | None,
        params: Mapping[str, Any],
    ) -> Validated[C, P]:
        """Validate both groups; raise :class:`ConfigurationError` listing every problem.

        ``credentials`` is ``None`` when they live in a secret store and are checked when
        resolved.
        """
        problems: list[str] = []
        creds = None
        if credentials is not None:
            creds = self._check(self.credentials, "credentials", credentials, problems)
        checked = self._check(self.params, "connection_params", params, problems)
        if problems or checked is None:
            raise ConfigurationError(connector, problems)
        return Validated(creds, checked)

    def _check(
        self, model: type[SpecModel], group: str, values: Mapping[str, Any], problems: list[str]
    ) -> Any:
        try:
            return model.model_validate(dict(values))
        except ValidationError as exc:
            known = list(model.model_fields)
            for error in exc.errors(include_input=False, include_url=False):
                name = ".".join(str(part) for part in error["loc"]) or "(all)"
                info = model.model_fields.get(str(error["loc"][0])) if error["loc"] else None
                if error["type"] == "missing":
                    hint = f" ({info.description})" if info and info.description else ""
                    problems.append(f"{group}.{name} is required{hint}")
                elif error["type"] == "extra_forbidden":
                    guess = difflib.get_close_matches(name, known, n=1)
                    fix = f"did you mean {guess[0]!r}?" if guess else f"known: {', '.join(known)}"
                    problems.append(f"{group}.{name} is not a known field; {fix}")
                else:
                    secret = info is not None and _is_secret(info.annotation)
                    shown = "" if secret else f" (got {values.get(name)!r})"
                    problems.append(f"{group}.{name}: {error['msg']}{shown}")
            return None
