import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";
import { useMutation } from "urql";
import { FieldError, FormErrors, fieldError } from "../../components/FormErrors";
import { useSession } from "../../auth/session";
import { RegisterUserDocument } from "../../gql/graphql";
import { useI18n } from "../../i18n";

export default function Register() {
  const { t } = useI18n();
  const session = useSession();
  const navigate = useNavigate();
  const [form, setForm] = useState({ fullName: "", email: "", password: "" });
  const [{ data, fetching }, register] = useMutation(RegisterUserDocument);
  const errors = data?.registerUser?.errors;

  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await register({ input: form });
    if (result.data?.registerUser?.me) {
      session.refresh();
      navigate("/");
    }
  }

  const field = (name: keyof typeof form, label: string, type: string, autoComplete: string) => (
    <>
      <label htmlFor={`register-${name}`}>{label}</label>
      <input
        id={`register-${name}`}
        type={type}
        autoComplete={autoComplete}
        required
        value={form[name]}
        onChange={(e) => setForm({ ...form, [name]: e.target.value })}
        aria-describedby={fieldError(errors, name) ? `register-${name}-error` : undefined}
      />
      <FieldError id={`register-${name}-error`} error={fieldError(errors, name)} />
    </>
  );

  return (
    <section aria-labelledby="register-title" className="narrow">
      <h1 id="register-title">{t("auth.registerTitle")}</h1>
      <form onSubmit={submit} noValidate>
        <FormErrors errors={errors} fields={["fullName", "email", "password"]} />
        {field("fullName", t("auth.displayName"), "text", "name")}
        {field("email", t("auth.email"), "email", "username")}
        {field("password", t("auth.password"), "password", "new-password")}
        <button type="submit" className="primary" disabled={fetching}>
          {t("auth.registerTitle")}
        </button>
      </form>
    </section>
  );
}
