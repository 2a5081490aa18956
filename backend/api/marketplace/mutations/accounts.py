"""Registration, sign-in (a session, for the web) and API tokens (for programmatic clients)."""

from typing import Any

import graphene
from django.contrib.auth import authenticate, login, logout

from backend.api.core.errors import errors_field
from backend.api.core.mutations import BaseMutation
from backend.api.marketplace.accounts import ApiTokenType, MeType
from marketplace import actions
from marketplace.actions.accounts import normalise_email
from marketplace.error_codes import ActionError
from marketplace.error_codes import MarketplaceErrorCode as Code


class RegisterInput(graphene.InputObjectType):
    email = graphene.String(required=True, description="Your e-mail; it is also your sign-in name.")
    password = graphene.String(required=True, description="At least 8 characters, not a common password.")
    full_name = graphene.String(description="How others see you.")


class RegisterUser(BaseMutation):
    """Create an account and sign in (a session cookie for the web)."""

    login_required = False

    class Arguments:
        input = RegisterInput(required=True)

    me = graphene.Field(MeType)
    errors = errors_field("RegisterUser", [Code.EMAIL_TAKEN, Code.WEAK_PASSWORD])

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, input: RegisterInput) -> dict[str, Any]:
        new = actions.register_user(input.email, input.password, input.full_name or "")
        login(info.context, new, backend="django.contrib.auth.backends.ModelBackend")
        return {"me": new}


class SignIn(BaseMutation):
    """Start a browser session. Programmatic clients use an API token instead."""

    login_required = False

    class Arguments:
        email = graphene.String(required=True)
        password = graphene.String(required=True)

    me = graphene.Field(MeType)
    errors = errors_field("SignIn", [Code.INVALID_CREDENTIALS])

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, email: str, password: str) -> dict[str, Any]:
        try:
            username = normalise_email(email)
        except ActionError:
            username = ""
        found = authenticate(info.context, username=username, password=password)
        if found is None:
            # One answer for unknown e-mail and wrong password: the API does not confirm who has an account.
            raise ActionError(Code.INVALID_CREDENTIALS, "Wrong e-mail or password.")
        login(info.context, found)
        return {"me": found}


class SignOut(BaseMutation):
    """End the browser session."""

    login_required = False

    ok = graphene.Boolean(required=True)
    errors = errors_field("SignOut")

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any) -> dict[str, Any]:
        logout(info.context)
        return {"ok": True}


class CreateApiToken(BaseMutation):
    """A bearer token for programmatic clients: `Authorization: Bearer <token>`. Shown only here, once."""

    class Arguments:
        name = graphene.String(required=True, description="What the token is for.")

    token = graphene.String(description="The secret token. Store it now: it cannot be shown again.")
    api_token = graphene.Field(ApiTokenType)
    errors = errors_field("CreateApiToken")

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, name: str) -> dict[str, Any]:
        row, token = actions.create_api_token(user, name)
        return {"token": token, "api_token": row}


class RevokeApiToken(BaseMutation):
    """Revoke one of your tokens; requests with it are refused from now on."""

    class Arguments:
        id = graphene.ID(required=True, description="The ApiToken id.")

    api_token = graphene.Field(ApiTokenType)
    errors = errors_field("RevokeApiToken")

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, id: str) -> dict[str, Any]:
        try:
            token_id = int(id)
        except ValueError as exc:
            raise ActionError(Code.INVALID, "Not a token id.", "id") from exc
        return {"api_token": actions.revoke_api_token(user, token_id)}


class AccountMutations(graphene.ObjectType):
    register_user = RegisterUser.Field()
    sign_in = SignIn.Field()
    sign_out = SignOut.Field()
    create_api_token = CreateApiToken.Field()
    revoke_api_token = RevokeApiToken.Field()
