// Validators compiled with Ajv from the TypeBox schemas, and their errors as problems.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { describeInvalid, type FieldError, MAX_LISTED_ERRORS, ProblemError } from './problem.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ES modules.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

function createAjv(coerceTypes: boolean, allErrors: boolean): Ajv {
  const ajv = new Ajv({
    allErrors,
    // Unknown fields are rejected, never silently dropped.
    removeAdditional: false,
    useDefaults: true,
    coerceTypes,
    verbose: true,
    strict: false,
  });
  // int32 and int64 bound the integers the OpenAPI document declares with those formats.
  addFormats(ajv, ['email', 'int32', 'int64']);
  return ajv;
}

/**
 * Bodies are validated as sent (a number where a string belongs is an error); query strings and params arrive as
 * text, so their numbers and booleans are coerced first. Each comes twice: `first` stops at the first error (its
 * cost is bounded by the data), `all` names every bad field (its cost and its errors grow with the data: an
 * array far over its `maxItems` still has every item checked), so it only runs on a value of at most
 * MAX_VALUES_FOR_FULL_REPORT values, and only while the report has room.
 */
const validators = {
  body: { first: createAjv(false, false), all: createAjv(false, true) },
  other: { first: createAjv(true, false), all: createAjv(true, true) },
};

/** The most JSON values (strings, numbers, objects…) a value may hold and still have every bad field named. */
const MAX_VALUES_FOR_FULL_REPORT = 2000;

/**
 * Text no PostgreSQL text or jsonb value can hold: NUL, and a UTF-16 surrogate that is not half of a pair (with
 * the `u` flag a pair is one code point, so `\p{Cs}` matches only a lone half). Refused in every string and field
 * name of every body, query and path, whatever the route (docs/api.md, "Text").
 */
const LONE_SURROGATE = /\p{Cs}/u;

/** True when the database can store `text`: no NUL, no unpaired surrogate. */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

/** Fastify's validator contract: true, or the finished 400 as `error`, which the error handler answers. */
export type PartValidator = (data: unknown) => true | { error: ProblemError };

type ValidationError = FastifySchemaValidationError & Partial<Pick<ErrorObject, 'parentSchema'>>;

/** An Ajv instance path (`/0/contacts/2/name`) as the caller wrote the field (`[0].contacts[2].name`). */
function fieldName(instancePath: string, context: string): string {
  const path = instancePath
    .split('/')
    .slice(1)
    .map((part, index) => (/^\d+$/.test(part) ? `[${part}]` : index === 0 ? part : `.${part}`))
    .join('');
  return path || context;
}

/** Appends a field name to a path the way Ajv does (a JSON pointer). */
function childPath(path: string, key: string | number): string {
  return `${path}/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

/**
 * The entries of one 400: the first failure of each field, at most MAX_LISTED_ERRORS of them; further ones are
 * only counted.
 */
class ErrorReport {
  readonly listed: FieldError[] = [];
  omitted = 0;
  private readonly seen = new Set<string>();

  constructor(readonly context: string) {}

  get full(): boolean {
    return this.listed.length >= MAX_LISTED_ERRORS;
  }

  add(field: string, message: string): void {
    if (this.seen.has(field)) return;
    this.seen.add(field);
    if (this.full) this.omitted++;
    else this.listed.push({ field, message });
  }

  /** Ajv's errors, their paths under `prefix` (an import item's `/41`). */
  addSchemaErrors(errors: readonly ValidationError[], prefix = ''): void {
    for (const error of errors) {
      const params = error.params as Record<string, unknown>;
      const path = fieldName(prefix + error.instancePath, '');
      let field = path || this.context;
      let message = error.message ?? 'is not valid';
      if (error.keyword === 'required') {
        field = [path, String(params.missingProperty)].filter(Boolean).join('.');
        message = 'is required';
      } else if (error.keyword === 'additionalProperties') {
        field = [path, String(params.additionalProperty)].filter(Boolean).join('.');
        message = 'is not a known field';
      } else if (error.keyword === 'pattern') {
        const description = (error.parentSchema as { description?: string } | undefined)?.description;
        message = description ? `must be ${description}` : 'has characters or a form that is not allowed';
      }
      this.add(field, message);
    }
  }

  /**
   * Names every string and field name under `data` that the database cannot store. Iterative, so a deeply nested
   * body cannot exhaust the stack; paths are only built once `measure` has found such text.
   */
  addUnstorableText(data: unknown, prefix = ''): void {
    const pending: [unknown, string][] = [[data, prefix]];
    for (let next = pending.pop(); next; next = pending.pop()) {
      const [value, path] = next;
      if (typeof value === 'string') {
        if (!isStorableText(value)) {
          this.add(
            fieldName(path, this.context),
            'must not contain NUL (U+0000) or an unpaired surrogate (U+D800–U+DFFF)',
          );
        }
      } else if (Array.isArray(value)) {
        for (let index = value.length - 1; index >= 0; index--) {
          pending.push([value[index], childPath(path, index)]);
        }
      } else if (value !== null && typeof value === 'object') {
        for (const [key, member] of Object.entries(value)) {
          if (!isStorableText(key)) {
            this.add(fieldName(path, this.context), 'has a field name with NUL or an unpaired surrogate');
          } else {
            pending.push([member, childPath(path, key)]);
          }
        }
      }
    }
  }

  /** Checks one value (a body, a query, an import item at `prefix`) against its validators. */
  check(compiled: Compiled, data: unknown, prefix = ''): void {
    const { values, unstorable } = measure(data);
    if (unstorable) this.addUnstorableText(data, prefix);
    if (compiled.first(data)) return;
    if (!this.full && values <= MAX_VALUES_FOR_FULL_REPORT) {
      compiled.all(data);
      this.addSchemaErrors(compiled.all.errors ?? [], prefix);
    } else {
      this.addSchemaErrors(compiled.first.errors ?? [], prefix);
    }
  }

  get failed(): boolean {
    return this.listed.length > 0;
  }

  toProblem(): ProblemError {
    return new ProblemError(
      400,
      'validation',
      describeInvalid(`The request ${this.context}`, this.listed, this.omitted),
      this.listed,
      {},
      this.omitted,
    );
  }
}

/** How many JSON values `data` holds, and whether any string or field name in it is unstorable text. */
function measure(data: unknown): { values: number; unstorable: boolean } {
  const pending: unknown[] = [data];
  let values = 0;
  let unstorable = false;
  for (; pending.length > 0; values++) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (!unstorable && !isStorableText(value)) unstorable = true;
    } else if (Array.isArray(value)) {
      for (const item of value) pending.push(item);
    } else if (value !== null && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        if (!unstorable && !isStorableText(key)) unstorable = true;
        pending.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return { values, unstorable };
}

interface Compiled {
  first: ValidateFunction;
  all: ValidateFunction;
}

function compile(schema: object, part: string): Compiled {
  const pair = part === 'body' ? validators.body : validators.other;
  return { first: pair.first.compile(schema), all: pair.all.compile(schema) };
}

function validatorOf(run: (report: ErrorReport, data: unknown) => void, part: string): PartValidator {
  return (data) => {
    const report = new ErrorReport(part);
    run(report, data);
    return report.failed ? { error: report.toProblem() } : true;
  };
}

/** The validator of one request part (`body`, `querystring`, `params`) against its schema. */
export function compileValidator(schema: object, part: string): PartValidator {
  const compiled = compile(schema, part);
  return validatorOf((report, data) => report.check(compiled, data), part);
}

/**
 * The validator of a bulk body: an array of `minItems`–`maxItems` items of `itemSchema`. Items are checked one
 * by one, so the cost of a bad import is bounded: every item is checked up to its first error, and only the
 * first bad items have every bad field named, until the report is full.
 */
export function compileBulkValidator(
  itemSchema: object,
  bounds: { minItems: number; maxItems: number },
  part = 'body',
): PartValidator {
  const shape = compile({ type: 'array', ...bounds }, part);
  const item = compile(itemSchema, part);
  return validatorOf((report, data) => {
    if (!shape.first(data)) {
      report.addSchemaErrors(shape.first.errors ?? []);
      return;
    }
    (data as unknown[]).forEach((value, index) => {
      report.check(item, value, `/${index}`);
    });
  }, part);
}

/** A 400 from schema errors Fastify reports itself (`error.validation`), bounded like every other. */
export function schemaProblem(errors: readonly ValidationError[], context: string): ProblemError {
  const report = new ErrorReport(context);
  report.addSchemaErrors(errors);
  return report.toProblem();
}
