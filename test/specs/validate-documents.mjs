// Validates the two generated documents with validators of their own specifications, as a child
// process of test/specs/specs.test.ts: @seriousme/openapi-schema-validator is ESM-only, and jest
// here runs CommonJS. Reads `{ openapi, asyncapi }` as JSON on stdin and prints
// `{ openapi: { valid, version, errors }, asyncapi: { valid, errors } }` on stdout.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Validator } from '@seriousme/openapi-schema-validator';

const require = createRequire(import.meta.url);
const Ajv = require('ajv');
const addFormats = require('ajv-formats');

const input = JSON.parse(readFileSync(0, 'utf8'));

// OpenAPI 3.1: the validator picks the schema by the document's `openapi` field.
const openapiValidator = new Validator();
const openapi = await openapiValidator.validate(structuredClone(input.openapi));

// AsyncAPI 3.0: the official JSON Schema of the specification (@asyncapi/specs), draft-07.
const asyncapiSchema = require('@asyncapi/specs/schemas/3.0.0-without-$id.json');
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validateAsyncApi = ajv.compile(asyncapiSchema);
const asyncapiValid = validateAsyncApi(input.asyncapi);

process.stdout.write(
  JSON.stringify({
    openapi: {
      valid: openapi.valid,
      version: openapiValidator.version,
      errors: openapi.errors ?? [],
    },
    asyncapi: { valid: asyncapiValid, errors: (validateAsyncApi.errors ?? []).slice(0, 20) },
  }),
);
