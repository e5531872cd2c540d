/**
 * Test support: checks an answer of the Worker against the OpenAPI description it serves, with
 * @cfworker/json-schema (a JSON Schema 2020-12 validator that runs in workerd).
 */
import { Validator, type Schema as JsonSchema } from "@cfworker/json-schema";
import { describeApi } from "../../src/worker/openapi";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const DESCRIPTION = describeApi() as Json;
const components = DESCRIPTION.components as Json;
const unrouted = DESCRIPTION["x-tally-unrouted-responses"] as Json;

/** "METHOD /path/{template}" of every described operation. */
export const DESCRIBED_OPERATIONS: string[] = Object.entries(DESCRIPTION.paths as Json).flatMap(([path, ops]) =>
  Object.keys(ops as Json).map((method) => `${method.toUpperCase()} ${path}`),
);

/** Errors found validating `value` against `schema`, whose refs point into the description. */
export function schemaErrors(schema: Json, value: unknown): string[] {
  const validator = new Validator({ ...schema, components } as JsonSchema, "2020-12", false);
  const result = validator.validate(value);
  return result.valid ? [] : result.errors.map((e) => `${e.instanceLocation}: ${e.error}`);
}

/** The described response for `operation` ("GET /v1/...") and `status`, or an answer to a request
 * that matches no operation, by name (`x-tally-unrouted-responses`). */
export function describedResponse(operation: string, status: number): Json | undefined {
  if (!operation.includes(" ")) return unrouted[operation] as Json | undefined;
  return describedResponses(operation)[String(status)];
}

/** The described responses of `operation` ("GET /v1/..."), by status. */
export function describedResponses(operation: string): Record<string, Json> {
  const [method, path] = operation.split(" ") as [string, string];
  return (DESCRIPTION.paths[path]?.[method.toLowerCase()]?.responses ?? {}) as Record<string, Json>;
}

/** Every way `res` departs from the description of `operation`: an undescribed status, a body or a
 * header that does not match. Reads the body. */
export async function departures(operation: string, res: Response): Promise<string[]> {
  const described = describedResponse(operation, res.status);
  if (!described) return [`${operation} answered ${res.status}, which is not described`];
  const problems: string[] = [];
  for (const [name, spec] of Object.entries((described.headers ?? {}) as Json)) {
    const value = res.headers.get(name);
    if (value === null) {
      if (spec.required) problems.push(`header ${name} is missing`);
      continue;
    }
    problems.push(...schemaErrors(spec.schema, headerValue(spec.schema, value)).map((e) => `header ${name} ${e}`));
  }
  const text = await res.text();
  const content = described.content as Json | undefined;
  if (!content) {
    if (res.status === 304 && text !== "") problems.push("a 304 has a body");
    return problems;
  }
  const type = res.headers.get("Content-Type") ?? "";
  const [mediaType, media] = Object.entries(content)[0] as [string, Json];
  if (!type.startsWith(mediaType)) problems.push(`Content-Type ${type} is not ${mediaType}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [...problems, `the body is not JSON: ${text.slice(0, 80)}`];
  }
  return [...problems, ...schemaErrors(media.schema, body).map((e) => `body ${e}`)];
}

/** A header's text as the value its schema describes: a header described as a number (Retry-After)
 * is checked as one when its text is a plain decimal number, and as the text otherwise, so that
 * anything else ("soon", an HTTP date) fails the schema's type. */
function headerValue(schema: Json, text: string): unknown {
  const numeric = schema.type === "integer" || schema.type === "number";
  return numeric && /^-?(0|[1-9]\d*)(\.\d+)?$/.test(text) ? Number(text) : text;
}

/** Whether a request body is valid by the description of `operation`'s request body. */
export function requestBodyErrors(operation: string, body: unknown): string[] {
  const [method, path] = operation.split(" ") as [string, string];
  const schema = DESCRIPTION.paths[path][method.toLowerCase()].requestBody.content["application/json"].schema as Json;
  return schemaErrors(schema, body);
}
