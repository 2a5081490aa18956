// A mutation's errors above its form. Those tied to a field the form shows appear next to that input;
// the rest lose their field name, which means something to the API ("milestones", "broker:12") but not
// to the person reading.
import { FormErrors, type ApiError } from "../../components/FormErrors";

export function Errors({ errors, fields = [] }: { errors: readonly ApiError[] | null | undefined; fields?: string[] }) {
  const shown = errors?.map((e) => (e.field && fields.includes(e.field) ? e : { ...e, field: null }));
  return <FormErrors errors={shown} fields={fields} />;
}
