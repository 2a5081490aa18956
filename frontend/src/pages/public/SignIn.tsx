import { useState, type FormEvent } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";
import { useMutation } from "urql";
import { FieldError, FormErrors, fieldError } from "../../components/FormErrors";
import { useSession } from "../../auth/session";
import { SignInDocument } from "../../gql/graphql";
import { useI18n } from "../../i18n";

/** Only same-site paths: a `next` pointing elsewhere would make this an open redirect. */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export default function SignIn() {
  const { t } = useI18n();
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [{ data, fetching }, signIn] = useMutation(SignInDocument);
  const errors = data?.signIn?.errors;

  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await signIn({ email, password });
    if (result.data?.signIn?.me) {
      session.refresh();
      navigate(safeNext(params.get("next")));
    }
  }

  return (
    <section aria-labelledby="signin-title" className="narrow">
      <h1 id="signin-title">{t("auth.signInTitle")}</h1>
      <form onSubmit={submit} noValidate>
        <FormErrors errors={errors} fields={["email", "password"]} />
        <label htmlFor="signin-email">{t("auth.email")}</label>
        <input
          id="signin-email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          aria-describedby={fieldError(errors, "email") ? "signin-email-error" : undefined}
        />
        <FieldError id="signin-email-error" error={fieldError(errors, "email")} />
        <label htmlFor="signin-password">{t("auth.password")}</label>
        <input
          id="signin-password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-describedby={fieldError(errors, "password") ? "signin-password-error" : undefined}
        />
        <FieldError id="signin-password-error" error={fieldError(errors, "password")} />
        <button type="submit" className="primary" disabled={fetching}>
          {t("auth.signInTitle")}
        </button>
        <p className="muted">{t("auth.demoHint")}</p>
      </form>
    </section>
  );
}
