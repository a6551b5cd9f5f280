import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Validates atproto records and procedure inputs against the official Lexicon documents, the way a
 * PDS does for the lexicons it knows: string lengths in UTF-8 bytes and graphemes, string formats,
 * unions by `$type`, blobs by MIME type and size. A reference to a lexicon that is not loaded is an
 * error, so a record can only pass if every part of it was checked.
 */

type Json = Record<string, unknown>;

interface LexiconDocument {
  id: string;
  defs: Record<string, Json>;
}

export interface LexiconValidator {
  /** Errors for `record` as a record of `collection` (its `$type` must name the collection). */
  validateRecord(collection: string, record: unknown): string[];
  /** Errors for the JSON input of a procedure (e.g. com.atproto.repo.createRecord). */
  validateInput(nsid: string, input: unknown): string[];
  /** Errors for the query-string parameters of a query (e.g. com.atproto.repo.listRecords). */
  validateParams(nsid: string, query: Record<string, unknown>): string[];
  /** The record-key type a collection declares (`tid`, `nsid`, `literal:self`, `any`). */
  recordKey(collection: string): string | null;
}

export const TID_PATTERN = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/;

const FORMATS: Record<string, (value: string) => boolean> = {
  datetime: (v) =>
    /^[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-6][0-9]:[0-6][0-9](\.[0-9]{1,20})?(Z|[+-][0-2][0-9]:[0-5][0-9])$/.test(
      v,
    ) &&
    !v.endsWith('-00:00') &&
    !Number.isNaN(Date.parse(v)),
  uri: (v) => v.length <= 8192 && /^[a-z][a-z0-9+.-]*:\S+$/i.test(v),
  'at-uri': (v) =>
    v.length <= 8192 &&
    /^at:\/\/(did:[a-z]+:[a-zA-Z0-9._:%-]+|[a-zA-Z0-9.-]+)(\/[a-zA-Z0-9.-]+(\/[a-zA-Z0-9._~:-]+)?)?$/.test(v),
  did: (v) => v.length <= 2048 && /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/.test(v),
  handle: (v) =>
    v.length <= 253 &&
    /^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(v),
  'at-identifier': (v) => FORMATS.did!(v) || FORMATS.handle!(v),
  nsid: (v) =>
    v.length <= 317 && /^[a-zA-Z]([a-zA-Z0-9-]{0,62})?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})?)+$/.test(v),
  cid: (v) => /^[a-zA-Z0-9+=]{8,256}$/.test(v),
  language: (v) => /^(i|[a-z]{2,3})(-[a-zA-Z0-9]+)*$/.test(v),
  'record-key': (v) => v !== '.' && v !== '..' && /^[a-zA-Z0-9_~.:-]{1,512}$/.test(v),
  tid: (v) => TID_PATTERN.test(v),
};

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
export const graphemeCount = (text: string): number => [...segmenter.segment(text)].length;

export function loadLexicons(directory: string): LexiconValidator {
  const documents = new Map<string, LexiconDocument>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.json')) {
        const document = JSON.parse(readFileSync(full, 'utf8')) as LexiconDocument;
        documents.set(document.id, document);
      }
    }
  };
  walk(directory);

  /** Resolves `#def`, `nsid#def` or `nsid` (its `main`) relative to the document `base`. */
  const resolve = (ref: string, base: string): { def: Json; nsid: string } | string => {
    const [nsidPart, defName] = ref.startsWith('#') ? [base, ref.slice(1)] : ref.split('#');
    const nsid = nsidPart || base;
    const document = documents.get(nsid);
    if (!document) return `lexicon ${nsid} is not available to validate ${ref}`;
    const def = document.defs[defName ?? 'main'];
    if (!def) return `lexicon ${nsid} has no definition ${defName ?? 'main'}`;
    return { def, nsid };
  };

  const check = (schema: Json, value: unknown, where: string, base: string, errors: string[]): void => {
    switch (schema.type) {
      case 'ref': {
        const target = resolve(String(schema.ref), base);
        if (typeof target === 'string') errors.push(`${where}: ${target}`);
        else check(target.def, value, where, target.nsid, errors);
        return;
      }
      case 'union': {
        if (!isObject(value) || typeof value.$type !== 'string') {
          errors.push(`${where} must be an object with a $type`);
          return;
        }
        const type = value.$type.endsWith('#main') ? value.$type.slice(0, -5) : value.$type;
        const refs = (schema.refs as string[]).map((ref) => normaliseRef(ref, base));
        if (!refs.includes(type)) {
          if (schema.closed) errors.push(`${where} $type ${type} is not one of ${refs.join(', ')}`);
          return;
        }
        const target = resolve(type, base);
        if (typeof target === 'string') errors.push(`${where}: ${target}`);
        else check(target.def, value, where, target.nsid, errors);
        return;
      }
      case 'record':
        check(schema.record as Json, value, where, base, errors);
        return;
      case 'object': {
        if (!isObject(value)) {
          errors.push(`${where} must be an object`);
          return;
        }
        const properties = (schema.properties ?? {}) as Record<string, Json>;
        const nullable = new Set((schema.nullable as string[] | undefined) ?? []);
        for (const name of (schema.required as string[] | undefined) ?? [])
          if (value[name] === undefined) errors.push(`${where} must have required property ${name}`);
        for (const [name, propertySchema] of Object.entries(properties)) {
          const property = value[name];
          if (property === undefined) continue;
          if (property === null) {
            if (!nullable.has(name)) errors.push(`${where}.${name} must not be null`);
            continue;
          }
          check(propertySchema, property, `${where}.${name}`, base, errors);
        }
        return;
      }
      case 'array': {
        if (!Array.isArray(value)) {
          errors.push(`${where} must be an array`);
          return;
        }
        if (typeof schema.maxLength === 'number' && value.length > schema.maxLength)
          errors.push(`${where} must have at most ${schema.maxLength} items`);
        if (typeof schema.minLength === 'number' && value.length < schema.minLength)
          errors.push(`${where} must have at least ${schema.minLength} items`);
        value.forEach((item, index) => {
          check(schema.items as Json, item, `${where}[${index}]`, base, errors);
        });
        return;
      }
      case 'string':
        checkString(schema, value, where, errors);
        return;
      case 'integer':
        if (typeof value !== 'number' || !Number.isInteger(value)) errors.push(`${where} must be an integer`);
        else {
          if (typeof schema.minimum === 'number' && value < schema.minimum)
            errors.push(`${where} must be >= ${schema.minimum}`);
          if (typeof schema.maximum === 'number' && value > schema.maximum)
            errors.push(`${where} must be <= ${schema.maximum}`);
          checkEnum(schema, value, where, errors);
        }
        return;
      case 'boolean':
        if (typeof value !== 'boolean') errors.push(`${where} must be a boolean`);
        else if (schema.const !== undefined && value !== schema.const)
          errors.push(`${where} must be ${String(schema.const)}`);
        return;
      case 'blob':
        checkBlob(schema, value, where, errors);
        return;
      case 'unknown':
        if (!isObject(value)) errors.push(`${where} must be an object`);
        return;
      case 'cid-link':
        if (!isObject(value) || typeof value.$link !== 'string') errors.push(`${where} must be a cid-link`);
        return;
      case 'bytes':
        if (!isObject(value) || typeof value.$bytes !== 'string') errors.push(`${where} must be bytes`);
        return;
      default:
        errors.push(`${where}: schema type ${String(schema.type)} cannot be checked`);
    }
  };

  return {
    validateRecord(collection, record) {
      const target = resolve(collection, collection);
      if (typeof target === 'string') return [target];
      if (target.def.type !== 'record') return [`${collection} is not a record type`];
      const errors: string[] = [];
      if (!isObject(record) || record.$type !== collection) errors.push(`record.$type must be ${collection}`);
      check(target.def, record, 'record', collection, errors);
      return errors;
    },
    validateInput(nsid, input) {
      const target = resolve(nsid, nsid);
      if (typeof target === 'string') return [target];
      const schema = (target.def.input as Json | undefined)?.schema as Json | undefined;
      if (!schema) return [`${nsid} takes no JSON input`];
      const errors: string[] = [];
      check(schema, input, 'input', nsid, errors);
      return errors;
    },
    validateParams(nsid, query) {
      const target = resolve(nsid, nsid);
      if (typeof target === 'string') return [target];
      const params = target.def.parameters as Json | undefined;
      const properties = (params?.properties ?? {}) as Record<string, Json>;
      const errors: string[] = [];
      for (const name of (params?.required as string[] | undefined) ?? [])
        if (query[name] === undefined) errors.push(`Params must have the property "${name}"`);
      for (const [name, raw] of Object.entries(query)) {
        const schema = properties[name];
        if (!schema) {
          errors.push(`Params has an unknown property "${name}"`);
          continue;
        }
        const text = String(raw);
        if (schema.type === 'integer') {
          const value = Number(text);
          if (!/^-?[0-9]+$/.test(text)) errors.push(`${name} must be an integer`);
          else if (typeof schema.minimum === 'number' && value < schema.minimum)
            errors.push(`${name} can not be less than ${schema.minimum}`);
          else if (typeof schema.maximum === 'number' && value > schema.maximum)
            errors.push(`${name} can not be greater than ${schema.maximum}`);
        } else if (schema.type === 'boolean') {
          if (text !== 'true' && text !== 'false') errors.push(`${name} must be a boolean`);
        } else check(schema, text, name, nsid, errors);
      }
      return errors;
    },
    recordKey(collection) {
      const def = documents.get(collection)?.defs.main;
      return def?.type === 'record' ? String(def.key ?? 'any') : null;
    },
  };
}

function checkString(schema: Json, value: unknown, where: string, errors: string[]): void {
  if (typeof value !== 'string') {
    errors.push(`${where} must be a string`);
    return;
  }
  // Lexicon string lengths count UTF-8 bytes; grapheme limits count user-perceived characters.
  const bytes = Buffer.byteLength(value, 'utf8');
  if (typeof schema.maxLength === 'number' && bytes > schema.maxLength)
    errors.push(`${where} must not be longer than ${schema.maxLength} bytes`);
  if (typeof schema.minLength === 'number' && bytes < schema.minLength)
    errors.push(`${where} must not be shorter than ${schema.minLength} bytes`);
  if (typeof schema.maxGraphemes === 'number' || typeof schema.minGraphemes === 'number') {
    const graphemes = graphemeCount(value);
    if (typeof schema.maxGraphemes === 'number' && graphemes > schema.maxGraphemes)
      errors.push(`${where} must not be longer than ${schema.maxGraphemes} graphemes`);
    if (typeof schema.minGraphemes === 'number' && graphemes < schema.minGraphemes)
      errors.push(`${where} must not be shorter than ${schema.minGraphemes} graphemes`);
  }
  if (typeof schema.format === 'string') {
    const test = FORMATS[schema.format];
    if (!test) errors.push(`${where}: format ${schema.format} cannot be checked`);
    else if (!test(value)) errors.push(`${where} must be a valid ${schema.format}`);
  }
  checkEnum(schema, value, where, errors);
}

function checkEnum(schema: Json, value: unknown, where: string, errors: string[]): void {
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    errors.push(`${where} must be one of ${schema.enum.join(', ')}`);
  if (schema.const !== undefined && value !== schema.const)
    errors.push(`${where} must be ${String(schema.const)}`);
}

function checkBlob(schema: Json, value: unknown, where: string, errors: string[]): void {
  if (
    !isObject(value) ||
    value.$type !== 'blob' ||
    !isObject(value.ref) ||
    typeof value.ref.$link !== 'string' ||
    typeof value.mimeType !== 'string' ||
    typeof value.size !== 'number'
  ) {
    errors.push(`${where} must be a blob reference`);
    return;
  }
  const accept = schema.accept as string[] | undefined;
  const mime = value.mimeType;
  if (
    accept &&
    !accept.some(
      (pattern) => pattern === mime || (pattern.endsWith('/*') && mime.startsWith(pattern.slice(0, -1))),
    )
  )
    errors.push(`${where} has MIME type ${mime}, not one of ${accept.join(', ')}`);
  if (typeof schema.maxSize === 'number' && value.size > schema.maxSize)
    errors.push(`${where} is ${value.size} bytes, more than ${schema.maxSize}`);
}

function normaliseRef(ref: string, base: string): string {
  const full = ref.startsWith('#') ? `${base}${ref}` : ref;
  return full.endsWith('#main') ? full.slice(0, -5) : full;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
