// One way to write an optional field: `{ ...optional('ticket', input.ticket) }` leaves `ticket` out
// when the value is undefined, instead of storing, sending or hashing `ticket: undefined` (JSON,
// DynamoDB marshalling and the audit's canonical form all treat a missing key and an undefined one
// differently). Only `undefined` is absent: an empty string, 0, false and null are values and kept.
// Pure and dependency-free, so every layer (domain, app, adapters, runtime, CLI, local, tests) may
// import it.

/** `{}` when `value` is undefined, `{ [key]: value }` otherwise; spread it into an object literal. */
export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
