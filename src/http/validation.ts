import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import type { FieldError } from './problem.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ES modules.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

function createAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: true,
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
 * text, so their numbers and booleans are coerced first.
 */
export const validators = { body: createAjv(false), other: createAjv(true) };

type ValidationError = FastifySchemaValidationError & Partial<Pick<ErrorObject, 'parentSchema'>>;

/** Turns schema validation failures into one entry per field, named as the caller sent it. */
export function toFieldErrors(errors: ValidationError[], context: string): FieldError[] {
  const seen = new Set<string>();
  const result: FieldError[] = [];
  for (const error of errors) {
    const params = error.params as Record<string, unknown>;
    const path = error.instancePath
      .split('/')
      .slice(1)
      .map((part, index) => (/^\d+$/.test(part) ? `[${part}]` : index === 0 ? part : `.${part}`))
      .join('');
    let field = path || context;
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
    // The first failure of each field says enough.
    if (!seen.has(field)) {
      seen.add(field);
      result.push({ field, message });
    }
  }
  return result;
}
