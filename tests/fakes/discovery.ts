import { readFileSync } from 'node:fs';

/**
 * Validates requests against a Google API discovery document (the format Google publishes for every
 * API, here YouTube Data API v3): a method's query parameters (declared, typed, enum, required,
 * repeated) plus the API-wide ones, and a request body against the method's resource schema, with
 * properties the schema does not define refused.
 */

interface DiscoveryParameter {
  type: 'string' | 'boolean' | 'integer' | 'number';
  location: 'query' | 'path';
  required?: boolean;
  repeated?: boolean;
  enum?: string[];
  format?: string;
  minimum?: string;
  maximum?: string;
}

interface DiscoverySchema {
  type?: string;
  $ref?: string;
  properties?: Record<string, DiscoverySchema>;
  items?: DiscoverySchema;
  additionalProperties?: DiscoverySchema;
  enum?: string[];
  format?: string;
}

interface DiscoveryMethod {
  id: string;
  httpMethod: string;
  parameters?: Record<string, DiscoveryParameter>;
  request?: { $ref: string };
  scopes?: string[];
  mediaUpload?: { accept: string[]; maxSize: string };
}

interface DiscoveryDocument {
  parameters: Record<string, DiscoveryParameter>;
  schemas: Record<string, DiscoverySchema>;
  resources: Record<string, { methods?: Record<string, DiscoveryMethod> }>;
}

export interface DiscoveryValidator {
  /** Problems with the query string of `resource.method` (e.g. `videos.insert`); empty when valid. */
  query(methodId: string, query: Record<string, unknown>): string[];
  /** Problems with a body against the method's request schema; empty when valid. */
  body(methodId: string, body: unknown): string[];
  method(methodId: string): DiscoveryMethod;
}

export function loadDiscoveryValidator(file: string): DiscoveryValidator {
  const document = JSON.parse(readFileSync(file, 'utf8')) as DiscoveryDocument;

  const method = (methodId: string): DiscoveryMethod => {
    const [resource, name] = methodId.split('.') as [string, string];
    const found = document.resources[resource]?.methods?.[name];
    if (!found) throw new Error(`the discovery document has no method ${methodId}`);
    return found;
  };

  const checkScalar = (name: string, spec: DiscoveryParameter, value: string): string | null => {
    if (spec.enum && !spec.enum.includes(value))
      return `${name}: "${value}" is not one of ${spec.enum.join(', ')}`;
    switch (spec.type) {
      case 'boolean':
        return value === 'true' || value === 'false' ? null : `${name}: "${value}" is not a boolean`;
      case 'integer': {
        if (!/^-?\d+$/.test(value)) return `${name}: "${value}" is not an integer`;
        const n = Number(value);
        if (spec.minimum !== undefined && n < Number(spec.minimum)) return `${name}: below ${spec.minimum}`;
        if (spec.maximum !== undefined && n > Number(spec.maximum)) return `${name}: above ${spec.maximum}`;
        return null;
      }
      case 'number':
        return Number.isFinite(Number(value)) ? null : `${name}: "${value}" is not a number`;
      default:
        return null;
    }
  };

  const resolve = (schema: DiscoverySchema): DiscoverySchema =>
    schema.$ref ? resolve(document.schemas[schema.$ref] ?? {}) : schema;

  const checkValue = (path: string, schema: DiscoverySchema, value: unknown, out: string[]): void => {
    const resolved = resolve(schema);
    switch (resolved.type) {
      case 'object': {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          out.push(`${path}: must be an object`);
          return;
        }
        for (const [key, inner] of Object.entries(value)) {
          const property = resolved.properties?.[key] ?? resolved.additionalProperties;
          if (!property) out.push(`${path ? `${path}.` : ''}${key}: not a field of this resource`);
          else checkValue(path ? `${path}.${key}` : key, property, inner, out);
        }
        return;
      }
      case 'array':
        if (!Array.isArray(value)) out.push(`${path}: must be an array`);
        else
          value.forEach((item, i) => {
            checkValue(`${path}[${i}]`, resolved.items ?? {}, item, out);
          });
        return;
      case 'string':
        // int64/uint64 travel as strings; date-time must parse.
        if (typeof value !== 'string') out.push(`${path}: must be a string`);
        else if (resolved.enum && !resolved.enum.includes(value))
          out.push(`${path}: "${value}" is not one of ${resolved.enum.join(', ')}`);
        else if (resolved.format === 'date-time' && Number.isNaN(Date.parse(value)))
          out.push(`${path}: not a date-time`);
        return;
      case 'boolean':
        if (typeof value !== 'boolean') out.push(`${path}: must be a boolean`);
        return;
      case 'integer':
        if (!Number.isInteger(value)) out.push(`${path}: must be an integer`);
        return;
      case 'number':
        if (typeof value !== 'number') out.push(`${path}: must be a number`);
        return;
      default:
        return;
    }
  };

  return {
    method,
    query(methodId, query) {
      const spec = method(methodId);
      const declared = { ...document.parameters, ...spec.parameters };
      const problems: string[] = [];
      for (const [name, raw] of Object.entries(query)) {
        const parameter = declared[name];
        if (parameter?.location !== 'query') {
          problems.push(`${name}: not a parameter of ${methodId}`);
          continue;
        }
        const values = Array.isArray(raw) ? raw.map(String) : [String(raw)];
        if (values.length > 1 && !parameter.repeated) problems.push(`${name}: given more than once`);
        for (const value of values) {
          const parts = parameter.repeated ? value.split(',') : [value];
          for (const part of parts) {
            const problem = checkScalar(name, parameter, part);
            if (problem) problems.push(problem);
          }
        }
      }
      for (const [name, parameter] of Object.entries(spec.parameters ?? {}))
        if (parameter.required && parameter.location === 'query' && query[name] === undefined)
          problems.push(`${name}: required`);
      return problems;
    },
    body(methodId, body) {
      const spec = method(methodId);
      if (!spec.request) return body === undefined || body === null ? [] : [`${methodId} takes no body`];
      const problems: string[] = [];
      checkValue('', { $ref: spec.request.$ref }, body, problems);
      return problems;
    },
  };
}
