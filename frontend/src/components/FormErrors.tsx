// A mutation's typed errors: translated by code (the API's message is the fallback), tied to fields.
import { hasKey, useI18n, type MessageKey } from "../i18n";

export interface ApiError {
  field?: string | null;
  code: string;
  message: string;
}

export function useErrorText(): (error: ApiError) => string {
  const { t } = useI18n();
  return (error) => {
    const key = `error.${error.code}`;
    return hasKey(key) ? t(key as MessageKey) : error.message;
  };
}

/** Errors not tied to a shown field; `fields` lists the fields the form shows next to their inputs. */
export function FormErrors({ errors, fields = [] }: { errors: readonly ApiError[] | null | undefined; fields?: string[] }) {
  const text = useErrorText();
  const general = (errors ?? []).filter((e) => !e.field || !fields.includes(e.field));
  if (!general.length) return null;
  return (
    <div role="alert" className="alert alert-error">
      <ul>
        {general.map((e, i) => (
          <li key={i} data-code={e.code}>
            {text(e)}
            {e.field ? ` (${e.field})` : ""}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function fieldError(errors: readonly ApiError[] | null | undefined, field: string): ApiError | undefined {
  return (errors ?? []).find((e) => e.field === field);
}

/** An input's error text, referenced by aria-describedby. */
export function FieldError({ id, error }: { id: string; error: ApiError | undefined }) {
  const text = useErrorText();
  if (!error) return null;
  return (
    <p id={id} className="field-error" data-code={error.code}>
      {text(error)}
    </p>
  );
}
