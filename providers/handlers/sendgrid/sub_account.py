"""SubAccount on SendGrid: a subuser of the parent account (create, read, disable/enable, IPs, delete).

The username names the subuser in every call, so it is the sub-account's id; a new username is a
new subuser (a replacement, guarded). SendGrid's API cannot change a subuser's e-mail or password
once it exists: a declared change to either is refused at preview, naming the field, rather than
replacing the customer's subuser (which would delete its contacts, templates and statistics).
The password is sent once, in the create; it is recorded like every input, so the program hands it
over as a Pulumi secret (encrypted in state, `[secret]` in previews: providers/platforms/sendgrid.py),
is never compared with SendGrid (which cannot show it: never drift), and never appears in a message.
IPs cannot be read back either: they are set when declared or changed, never drift.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator, model_validator

from ...resources.diagnostics import warn
from ...validators import email_address
from ..base import CannotAdopt, Gone, Recorded, Refused
from ..sub_account import SubAccountHandler, SubAccountState

if TYPE_CHECKING:  # the client (and `requests`) loads on the first API call, not at preview
    from ...sendgrid.client import SendGridClient, SubuserExists
    from ...sendgrid.models import Subuser

USERNAME = "1 to 64 letters, digits or the characters @ . _ + -"
MIN_PASSWORD = 8
CONSOLE = "the SendGrid console (Settings > Subuser Management)"


def _username(value: str) -> str:
    import re

    if not re.fullmatch(r"[A-Za-z0-9@._+-]{1,64}", value or ""):
        raise ValueError(f"{value!r} is not a SendGrid username ({USERNAME})")
    return value


def _ip(value: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 address") from None


class SendGridSubAccountArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["sendgrid"]
    username: str = Field(description="the subuser's username, unique across SendGrid (a change replaces the "
                                      "subuser: guarded)")
    email: Optional[str] = Field(None, description="the subuser's contact e-mail (fixed once it exists: SendGrid's "
                                                   "API cannot change it)")
    # A wrong value is refused by _password, whose words never repeat it (a field's error would).
    password: Optional[str] = Field(None, description="only used to create the subuser; a secret: `pulumi config set "
                                                      "--path --secret 'email-partners:customer.account.password' ...`")
    ips: Optional[list[str]] = Field(None, min_length=1, description="the parent's IPs the subuser sends from (at "
                                                                     "least one to create it; not readable back)")
    suspended: StrictBool = Field(False, description="disabled on SendGrid: it cannot send or log in")
    adopt_account_id: Optional[str] = Field(None, description="take over this existing subuser (its username) "
                                                              "instead of creating one (see `email-partners discover`)")

    _username = field_validator("username")(_username)
    _email = field_validator("email")(email_address)

    @field_validator("ips")
    @classmethod
    def _ips(cls, ips: Optional[list[str]]) -> Optional[list[str]]:
        return None if ips is None else [_ip(ip) for ip in ips]

    @model_validator(mode="wrap")
    @classmethod
    def _password(cls, data: Any, handler: Any) -> Any:
        """A wrong password is the model's failure, not the field's: a field's names it as its property
        and repeats the value (the engine prints both). The other fields are still checked with it."""
        password = data.get("password") if isinstance(data, dict) else None
        if password is None or (isinstance(password, str) and len(password) >= MIN_PASSWORD):
            return handler(data)
        problem = {"type": "value_error", "loc": (), "input": {}, "ctx": {"error": ValueError(
            f"password: must be a string of at least {MIN_PASSWORD} characters (the value is not shown: it is a "
            f"secret)")}}
        try:
            handler({**data, "password": None})
        except ValidationError as exc:
            others = [{k: e[k] for k in ("type", "loc", "input", "ctx") if k in e} for e in exc.errors()]
            raise ValidationError.from_exception_data(cls.__name__, [*others, problem]) from None
        raise ValidationError.from_exception_data(cls.__name__, [problem])

    @model_validator(mode="after")
    def _what_a_create_needs(self):
        # The password too, but only where a subuser is created: refuse_changes (it may be left out later).
        if self.adopt_account_id is None:
            missing = [f for f in ("email", "ips") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"{', '.join(missing)}: required to create a SendGrid subuser (or set "
                                 f"adopt_account_id to take over an existing one)")
        elif self.adopt_account_id != self.username:
            raise ValueError(f"adopt_account_id: a SendGrid subuser is named by its username, so it must equal "
                             f"username ({self.username!r}), not {self.adopt_account_id!r}")
        return self


class SendGridSubAccount(SubAccountHandler[SendGridSubAccountArgs]):
    platform = "sendgrid"
    Args = SendGridSubAccountArgs
    client: SendGridClient
    replace_fields = frozenset({"platform", "username"})
    # The password is never compared (SendGrid cannot show it; a change is refused at check), nor
    # adopt_account_id (it only matters to the create).
    compared_fields = ("platform", "username", "email", "ips", "suspended")

    @classmethod
    def customer_name(cls, recorded: Recorded) -> Optional[str]:
        """A subuser has no name: its username names the customer."""
        return recorded.username or None

    @classmethod
    def refuse_changes(cls, recorded: Optional[Recorded], new: SendGridSubAccountArgs) -> list[tuple[str, str]]:
        """What SendGrid cannot change on the existing subuser (a new username is a new subuser: the
        replacement guard's business, and the new one gets the new e-mail and password)."""
        if recorded is None or recorded.platform != new.platform or recorded.username != new.username:
            if new.password is None and new.adopt_account_id is None:
                return [("", "password: required to create a SendGrid subuser (or set adopt_account_id to take "
                             "over an existing one); store it encrypted: `pulumi config set --path --secret "
                             "'email-partners:customer.account.password' <value>`")]
            return []
        refused = []
        adopted = recorded.adopt_account_id
        if adopted and new.adopt_account_id not in (None, adopted):
            refused.append(("adopt_account_id", f"this resource already manages subuser {adopted}; to take over "
                                                f"{new.adopt_account_id}, declare it in another stack"))
        if new.email is not None and recorded.email is not None and new.email != recorded.email:
            refused.append(("email", f"SendGrid's API cannot change a subuser's e-mail, and replacing subuser "
                                     f"{new.username} would delete its data: change it in {CONSOLE}, run "
                                     f"`pulumi refresh`, then declare the new value; or put it back to "
                                     f"{recorded.email!r}"))
        if new.password is not None and new.password != recorded.password:
            # Named in the words only: a failure's property would make the engine print the value.
            refused.append(("", f"password: SendGrid's API cannot change a subuser's password (it is only sent "
                                f"when the subuser is created), and replacing subuser {new.username} would delete "
                                f"its data. Change it in {CONSOLE}, then put the declared password back as it was "
                                f"(or remove it: it is not needed once the subuser exists)"))
        return refused

    # --- the lifecycle ----------------------------------------------------------------------------
    def create(self, args: SendGridSubAccountArgs, marker: Optional[str]) -> tuple[str, SubAccountState]:
        from ...sendgrid.client import SubuserExists
        from ...sendgrid.models import CreateSubuser

        if args.adopt_account_id is not None:
            return self._adopt(args)
        try:
            subuser = self.client.create_subuser(CreateSubuser(username=args.username, email=args.email,
                                                               password=args.password, ips=args.ips))
        except SubuserExists as exc:
            subuser = self._recognise(args, exc)
            self.client.set_ips(subuser.username, args.ips)
        if args.suspended != subuser.disabled:
            self.client.set_disabled(subuser.username, args.suspended)
            subuser = subuser.model_copy(update={"disabled": args.suspended})
        return subuser.username, self._outputs(args.model_dump(), subuser)

    def _recognise(self, args: SendGridSubAccountArgs, exc: SubuserExists) -> Subuser:
        """The subuser an interrupted create of this resource made. SendGrid stores nothing of ours and
        shows no creation time, but usernames are unique across SendGrid: a subuser of this parent with
        the declared username and e-mail is the one this declaration asked for. Anything else is refused."""
        existing = exc.existing
        if existing is None:
            raise Refused(f"the SendGrid username {args.username!r} is taken by an account outside this parent "
                          f"(usernames are unique across SendGrid): nothing was created; declare another username")
        if existing.email != args.email:
            raise Refused(f"this parent already has a subuser {args.username!r} (id {existing.id}, e-mail "
                          f"{existing.email!r}, not the declared {args.email!r}); it was not changed. To manage it "
                          f"with this stack, set `adopt_account_id: {args.username}` and declare its e-mail.")
        warn(f"sendgrid subuser {existing.username} (id {existing.id}) has the declared username and e-mail, so an "
             f"earlier, interrupted run of this resource made it: taking it over instead of creating another (its "
             f"password is the one that run sent)")
        return existing

    def _adopt(self, args: SendGridSubAccountArgs) -> tuple[str, SubAccountState]:
        """Take over an existing subuser without writing to it: what SendGrid shows must match the
        declaration, and what it cannot show (IPs) cannot be declared yet."""
        subuser = self.client.find_subuser(args.adopt_account_id)
        if subuser is None:
            raise CannotAdopt(f"cannot adopt sendgrid subuser {args.adopt_account_id}: this parent has no subuser of "
                              f"that username. Nothing was created; check adopt_account_id.")
        differences = [f"{k}: declared {d!r}, live {v!r}" for k, d, v in (
            ("email", args.email, subuser.email), ("suspended", args.suspended, subuser.disabled))
            if d is not None and d != v]
        if args.ips is not None:
            differences.append("ips: SendGrid cannot show a subuser's IPs, so adopting cannot check them; adopt it "
                               "without ips, then declare them in a reviewed update")
        if args.password is not None:
            differences.append("password: SendGrid cannot show or change a subuser's password; adopt it without one")
        if differences:
            raise CannotAdopt(f"cannot adopt sendgrid subuser {args.adopt_account_id}: {'; '.join(differences)}. "
                              f"Nothing was changed.")
        return subuser.username, self._outputs(args.model_dump(), subuser)

    def read(self, id_: str, recorded: Recorded) -> Optional[SubAccountState]:
        subuser = self.client.find_subuser_shared(id_, reader="SubAccount")
        if subuser is None:
            return None
        inputs = recorded.inputs()
        # Password and IPs are not readable: kept as recorded. The rest is what SendGrid says.
        inputs.update(username=subuser.username, email=subuser.email, suspended=subuser.disabled)
        return self._outputs(inputs, subuser)

    def update(self, id_: str, recorded: Recorded, args: SendGridSubAccountArgs) -> SubAccountState:
        subuser = self.client.find_subuser(id_)
        if subuser is None:
            raise Gone(f"sendgrid subuser {id_} no longer exists; run `pulumi refresh` to recreate it")
        if args.ips is not None and args.ips != recorded.ips:
            self.client.set_ips(id_, args.ips)
        if args.suspended != subuser.disabled:
            self.client.set_disabled(id_, args.suspended)
            subuser = subuser.model_copy(update={"disabled": args.suspended})
        return self._outputs(args.model_dump(), subuser)

    def delete(self, id_: str, recorded: Recorded) -> None:
        self.client.delete_subuser(id_)  # its domains and credits go with it; already gone is fine

    @staticmethod
    def _outputs(inputs: dict, subuser: Subuser) -> SubAccountState:
        return SubAccountState(**inputs, account_id=subuser.username,
                               status="disabled" if subuser.disabled else "active", owner_user_id=str(subuser.id))
