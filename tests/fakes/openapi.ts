import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020';
import addFormatsModule from 'ajv-formats';

/**
 * Validates requests against one operation of an official OpenAPI document (3.0 or 3.1): path and
 * query parameters (with OpenAPI's serialisation styles) and the request body (JSON, or multipart
 * with its files seen as binary strings). `$ref`s resolve inside the document, so the fake checks
 * exactly what the published schema says, including `additionalProperties: false`.
 */

type JsonObject = Record<string, unknown>;

export interface OpenApiRequest {
  params: Record<string, string>;
  query: Record<string, string | string[] | undefined>;
  /** Parsed body: JSON value, or multipart fields (strings) and files (Buffers). */
  body: unknown;
  contentType: string | undefined;
}

export interface OpenApiValidatorOptions {
  /** Rejects query parameters the operation does not declare (some platforms answer 400). */
  rejectUnknownQuery?: boolean;
  /**
   * Reads `oneOf` as `anyOf`: some documents use `oneOf` for request variants that overlap (a
   * Mastodon status with text and media matches both TextStatus and MediaStatus, which the server
   * accepts), so strict exclusivity would reject requests the platform takes.
   */
  oneOfAsAnyOf?: boolean;
}

export interface OpenApiValidator {
  /** Error messages for the request against `method path` (path as written in the document); empty when valid. */
  validate(method: string, path: string, request: OpenApiRequest): string[];
  /** Whether the document defines this operation. */
  has(method: string, path: string): boolean;
  /** The scopes the operation requires under a security scheme (null when the scheme is not offered). */
  scopes(method: string, path: string, scheme: string): string[] | null;
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonObject;
  style?: string;
  explode?: boolean;
}

const DOCUMENT_ID = 'openapi-document';
// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as typeof addFormatsModule;

export function loadOpenApiValidator(file: string, options: OpenApiValidatorOptions = {}): OpenApiValidator {
  return createOpenApiValidator(JSON.parse(readFileSync(file, 'utf8')) as JsonObject, options);
}

export function createOpenApiValidator(
  source: JsonObject,
  options: OpenApiValidatorOptions = {},
): OpenApiValidator {
  const is31 = String(source.openapi ?? '').startsWith('3.1');
  const document = normalise(structuredClone(source), { is31, oneOfAsAnyOf: options.oneOfAsAnyOf ?? false });
  const makeAjv = (coerceTypes: boolean | 'array') => {
    const settings = { strict: false, allErrors: true, coerceTypes, logger: false } as const;
    const ajv = is31 ? new Ajv2020(settings) : new Ajv(settings);
    addFormats(ajv);
    ajv.addSchema(document, DOCUMENT_ID);
    return ajv;
  };
  const bodies = makeAjv(false);
  const fields = makeAjv('array');
  const compiled = new Map<string, ValidateFunction>();

  const compile = (ajv: Ajv | Ajv2020, pointer: string, wrapAs?: string): ValidateFunction => {
    const key = `${ajv === bodies ? 'b' : 'f'}:${wrapAs ?? ''}:${pointer}`;
    let validate = compiled.get(key);
    if (!validate) {
      const ref = { $ref: `${DOCUMENT_ID}#${pointer}` };
      // Parameters are validated wrapped in an object so that type coercion can replace the value.
      validate = ajv.compile(wrapAs ? { type: 'object', properties: { [wrapAs]: ref } } : ref);
      compiled.set(key, validate);
    }
    return validate;
  };

  const operation = (method: string, path: string) => {
    const paths = document.paths as Record<string, JsonObject> | undefined;
    const item = paths?.[path];
    const op = item?.[method.toLowerCase()] as JsonObject | undefined;
    return op ? { item: item as JsonObject, op } : null;
  };

  return {
    has: (method, path) => operation(method, path) !== null,
    scopes(method, path, scheme) {
      const security = (operation(method, path)?.op.security ?? document.security) as
        | Record<string, string[]>[]
        | undefined;
      const entry = security?.find((requirement) => scheme in requirement);
      return entry ? (entry[scheme] ?? []) : null;
    },
    validate(method, path, request) {
      const found = operation(method, path);
      if (!found) return [`${method.toUpperCase()} ${path} is not an operation of the document`];
      const base = `/paths/${escapePointer(path)}`;
      const errors: string[] = [];
      const parameters = [
        ...parameterEntries(document, found.item.parameters, `${base}/parameters`),
        ...parameterEntries(document, found.op.parameters, `${base}/${method.toLowerCase()}/parameters`),
      ];
      const declaredQuery = new Set<string>();
      for (const { parameter, pointer } of parameters) {
        if (parameter.in !== 'path' && parameter.in !== 'query') continue;
        const raw =
          parameter.in === 'path'
            ? request.params[parameter.name]
            : (request.query[parameter.name] ?? request.query[`${parameter.name}[]`]);
        if (parameter.in === 'query') declaredQuery.add(parameter.name).add(`${parameter.name}[]`);
        if (raw === undefined || raw === '') {
          if (parameter.required || parameter.in === 'path')
            errors.push(`${parameter.in} parameter ${parameter.name} is required`);
          continue;
        }
        if (!parameter.schema) continue;
        const value = deserialise(raw, parameter, resolveSchema(document, parameter.schema));
        const holder = { value };
        const validate = compile(fields, `${pointer}/schema`, 'value');
        if (!validate(holder))
          errors.push(...describe(validate.errors, `${parameter.in} parameter ${parameter.name}`));
      }
      if (options.rejectUnknownQuery) {
        for (const name of Object.keys(request.query))
          if (!declaredQuery.has(name))
            errors.push(`query parameter ${name} is not one of the operation's parameters`);
      }
      errors.push(...validateBody(found.op, `${base}/${method.toLowerCase()}`, request));
      return errors;
    },
  };

  function validateBody(op: JsonObject, opPointer: string, request: OpenApiRequest): string[] {
    const requestBody = op.requestBody as JsonObject | undefined;
    const hasBody = request.body !== undefined && request.body !== null && request.body !== '';
    if (!requestBody) return [];
    const resolved = resolveRef(document, requestBody);
    const content = (resolved.value.content ?? {}) as Record<string, JsonObject>;
    if (!hasBody) return resolved.value.required ? ['a request body is required'] : [];
    const mediaType = (request.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (!content[mediaType]) return [`content type ${mediaType || '(none)'} is not accepted here`];
    const pointer = `${resolved.pointer ?? `${opPointer}/requestBody`}/content/${escapePointer(mediaType)}/schema`;
    if (mediaType === 'multipart/form-data' || mediaType === 'application/x-www-form-urlencoded') {
      const form = binaryAsString(request.body as JsonObject);
      const validate = compile(fields, pointer, 'value');
      return validate({ value: form }) ? [] : describe(validate.errors, 'body');
    }
    const validate = compile(bodies, pointer);
    return validate(request.body) ? [] : describe(validate.errors, 'body');
  }
}

function parameterEntries(
  document: JsonObject,
  list: unknown,
  pointer: string,
): { parameter: Parameter; pointer: string }[] {
  if (!Array.isArray(list)) return [];
  return list.map((entry, index) => {
    const resolved = resolveRef(document, entry as JsonObject);
    return {
      parameter: resolved.value as unknown as Parameter,
      pointer: resolved.pointer ?? `${pointer}/${index}`,
    };
  });
}

/** Follows a `$ref` to a JSON pointer inside the document (`#/...`). */
function resolveRef(document: JsonObject, value: JsonObject): { value: JsonObject; pointer: string | null } {
  let current = value;
  let pointer: string | null = null;
  for (let depth = 0; typeof current.$ref === 'string' && depth < 20; depth++) {
    const ref = current.$ref as string;
    if (!ref.startsWith('#/')) throw new Error(`external $ref not supported: ${ref}`);
    pointer = ref.slice(1);
    current = pointer
      .split('/')
      .slice(1)
      .reduce<unknown>((node, part) => (node as JsonObject)?.[unescapePointer(part)], document) as JsonObject;
    if (!current) throw new Error(`unresolved $ref ${ref}`);
  }
  return { value: current, pointer };
}

function resolveSchema(document: JsonObject, schema: JsonObject): JsonObject {
  return resolveRef(document, schema).value;
}

/** Turns a query or path value into what the schema describes, following OpenAPI's style/explode rules. */
function deserialise(raw: string | string[], parameter: Parameter, schema: JsonObject): unknown {
  const isArray = schema.type === 'array' || (Array.isArray(schema.type) && schema.type.includes('array'));
  if (!isArray) return raw;
  const values = Array.isArray(raw) ? raw : [raw];
  const style = parameter.style ?? (parameter.in === 'query' ? 'form' : 'simple');
  const explode = parameter.explode ?? style === 'form';
  if (explode) return values;
  const separator = style === 'spaceDelimited' ? ' ' : style === 'pipeDelimited' ? '|' : ',';
  return values.flatMap((v) => v.split(separator));
}

/** Multipart files are binary strings to OpenAPI; represent them as such for validation. */
function binaryAsString(form: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(form ?? {}))
    out[key] = Buffer.isBuffer(value) ? value.toString('latin1') : value;
  return out;
}

/** Adapts OpenAPI dialect to JSON Schema: 3.0's `nullable`, and optionally `oneOf` read as `anyOf`. */
function normalise(node: unknown, options: { is31: boolean; oneOfAsAnyOf: boolean }): JsonObject {
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (!value || typeof value !== 'object') return value;
    const object = value as JsonObject;
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(object)) {
      if (key === 'oneOf' && options.oneOfAsAnyOf && Array.isArray(child)) out.anyOf = visit(child);
      else if (key === 'nullable' && !options.is31) continue;
      else out[key] = visit(child);
    }
    if (!options.is31 && object.nullable === true) {
      if (typeof object.type === 'string') out.type = [object.type, 'null'];
    }
    return out;
  };
  return visit(node) as JsonObject;
}

function describe(errors: ErrorObject[] | null | undefined, where: string): string[] {
  return (errors ?? []).map((error) => {
    const path = error.instancePath.replace(/^\/value/, '');
    const extra =
      error.keyword === 'additionalProperties'
        ? ` (${(error.params as { additionalProperty: string }).additionalProperty})`
        : '';
    return `${where}${path} ${error.message ?? 'is invalid'}${extra}`;
  });
}

const escapePointer = (part: string) => part.replace(/~/g, '~0').replace(/\//g, '~1');
const unescapePointer = (part: string) => part.replace(/~1/g, '/').replace(/~0/g, '~');

/** `/2/users/{id}/tweets` → `/2/users/:id/tweets`, for registering a fake's route under the document's path. */
export function fastifyPath(openApiPath: string): string {
  return openApiPath.replace(/\{([^}]+)\}/g, ':$1');
}

/** The parts of a Fastify request the validator reads. */
export function openApiRequest(request: {
  params: unknown;
  query: unknown;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}): OpenApiRequest {
  const contentType = request.headers['content-type'];
  return {
    params: (request.params ?? {}) as Record<string, string>,
    query: (request.query ?? {}) as Record<string, string | string[] | undefined>,
    body: request.body,
    contentType: Array.isArray(contentType) ? contentType[0] : contentType,
  };
}
