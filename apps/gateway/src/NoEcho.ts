/**
 * No response repeats what the client sent. graphql-js and yoga quote the request in their errors:
 * a body that is not JSON in `extensions.originalError`, variable values and literals in coercion
 * errors (`Variable "$t" got invalid value …`), unknown names and "Did you mean …" suggestions in
 * validation errors, unexpected parameter names. This yoga plugin rewrites every error of every
 * result, just before it is serialised, into a fixed text:
 *
 * - the gateway's own errors (marked with {@link trust}) and messages known to be fixed texts
 *   (yoga's, graphql-armor's limits) are kept;
 * - known graphql-js messages are rewritten to a template that names only schema names (types,
 *   fields, arguments of this schema, checked), e.g. `Cannot query this field on type "Query".`;
 * - anything else gets the fixed message of its class ({@link messages}).
 *
 * Locations (line, column), the response path, `extensions.code` and the HTTP status are kept;
 * every other extension (`originalError` …) is dropped. Response keys in `data` are the client's own
 * aliases and are, by GraphQL's design, echoed.
 *
 * It also turns an unparsable request (e.g. `GET /graphql?variables=not-json`, which yoga answers
 * 500) into a 400 `BAD_REQUEST`.
 *
 * @since 0.1.0
 */
import type { ExecutionResult, GraphQLError, GraphQLSchema } from "graphql"
import { createGraphQLError, type Plugin } from "graphql-yoga"

/**
 * The fixed messages that replace what would echo the request.
 *
 * @since 0.1.0
 * @category constants
 */
export const messages = {
  request: "The request parameters could not be parsed: variables and extensions must be JSON objects.",
  parameter: "The request has a parameter that is not query, variables, operationName or extensions.",
  syntax: "Syntax Error: the GraphQL document could not be parsed.",
  invalid: "The GraphQL document is not valid for this schema.",
  unknownType: "The document names a type that is not in this schema.",
  unknownArgument: "The document names an argument that is not in this schema.",
  unknownFragment: "The document spreads a fragment that it does not define.",
  unknownDirective: "The document uses a directive that is not in this schema.",
  literal: "An argument or default value has a value of the wrong type.",
  variable: "A variable is missing or has a value of the wrong type.",
  unusedVariable: "A variable is defined but never used.",
  undefinedVariable: "A variable is used but not defined.",
  operation: "The operation to execute could not be determined."
} as const

const trusted = new WeakSet<object>()

/**
 * Marks `error` as the gateway's own (a fixed text): {@link plugin} keeps it as it is.
 *
 * @since 0.1.0
 * @category utils
 */
export const trust = <E extends GraphQLError>(error: E): E => {
  trusted.add(error)
  return error
}

const isTrusted = (error: GraphQLError): boolean =>
  trusted.has(error) || (error.originalError != null && trusted.has(error.originalError))

/** Messages kept as they are: fixed texts of yoga, graphql-js and graphql-armor (numbers are the server's). */
const keptMessages: ReadonlyArray<RegExp> = [
  /^Syntax Error: (Token limit of \d+ exceeded|(Aliases|Query depth|Query Cost|Directives) limit of \d+ exceeded, found \d+)\.$/,
  /^POST body sent invalid JSON\.$/,
  /^POST body is expected to be object but received \w+$/,
  /^Must provide query string\.$/,
  /^Batching is (not supported|limited to \d+ operations per request)\.$/,
  /^Could not determine what operation to execute\.$/,
  /^Can only perform a mutation operation from a POST request\.$/,
  /^Required CSRF header\(s\) not present$/,
  /^Invalid "params" in the request body$/,
  /^Expected params to be an object but given \w+\.$/,
  /^Expected "(query|variables|operationName|extensions)" param to be [\w ]+, but given \w+\.$/,
  /^Must provide operation name if query contains multiple operations\.$/,
  /^This anonymous operation must be the only defined operation\.$/,
  /^Internal server error$/
]

/** The names of `schema`: types, fields, arguments, enum values, input fields and directives. */
const namesOf = (schema: GraphQLSchema): ReadonlySet<string> => {
  const names = new Set<string>()
  for (const type of Object.values(schema.getTypeMap())) {
    names.add(type.name)
    const withFields = type as unknown as {
      getFields?: () => Record<string, { readonly args?: ReadonlyArray<{ readonly name: string }> }>
      getValues?: () => ReadonlyArray<{ readonly name: string }>
    }
    for (const [name, field] of Object.entries(withFields.getFields?.() ?? {})) {
      names.add(name)
      for (const arg of field.args ?? []) names.add(arg.name)
    }
    for (const value of withFields.getValues?.() ?? []) names.add(value.name)
  }
  for (const directive of schema.getDirectives()) {
    names.add(directive.name)
    for (const arg of directive.args) names.add(arg.name)
  }
  return names
}

/** A type reference such as `[String!]!`, when its named type is in the schema. */
const isSchemaType = (names: ReadonlySet<string>, reference: string) => names.has(reference.replace(/[[\]!]/g, ""))

type Rewrite = (match: RegExpExecArray, names: ReadonlySet<string>) => string | undefined

/** graphql-js messages that quote the request, and their rewrites; `undefined` falls back to the class's message. */
const rewrites: ReadonlyArray<readonly [RegExp, Rewrite]> = [
  [/^Syntax Error: /, () => messages.syntax],
  [
    /^GraphQL introspection has been disabled, but the requested query contained the field "(__schema|__type)"\.$/,
    ([, field]) => `GraphQL introspection is disabled, but the query contained ${field}.`
  ],
  [
    /^Cannot query field "[^"]*" on type "([^"]*)"\./,
    ([, type], names) => (names.has(type!) ? `Cannot query this field on type "${type}".` : undefined)
  ],
  [
    /^Field "([^"]*)" argument "([^"]*)" of type "([^"]*)" is required, but it was not provided\.$/,
    ([message, field, arg, type], names) =>
      names.has(field!) && names.has(arg!) && isSchemaType(names, type!) ? message : undefined
  ],
  [
    /^Field "([^"]*)" of type "([^"]*)" must have a selection of subfields\./,
    ([, field, type], names) =>
      names.has(field!) && isSchemaType(names, type!)
        ? `Field "${field}" of type "${type}" must have a selection of subfields.`
        : undefined
  ],
  [
    /^Field "([^"]*)" must not have a selection since type "([^"]*)" has no subfields\.$/,
    ([message, field, type], names) => (names.has(field!) && isSchemaType(names, type!) ? message : undefined)
  ],
  [
    /^Unknown argument "[^"]*" on field "([^".]*)\.([^"]*)"\./,
    ([, type, field], names) =>
      names.has(type!) && names.has(field!) ? `Unknown argument on field "${type}.${field}".` : undefined
  ],
  [/^Unknown argument /, () => messages.unknownArgument],
  [/^Unknown type /, () => messages.unknownType],
  [/^Unknown fragment /, () => messages.unknownFragment],
  [/^Unknown directive /, () => messages.unknownDirective],
  [/^Unknown operation named /, () => messages.operation],
  [
    /^Variable "\$[^"]*" of type "([^"]*)" used in position expecting type "([^"]*)"\.$/,
    ([, given, expected], names) =>
      isSchemaType(names, given!) && isSchemaType(names, expected!)
        ? `A variable of type "${given}" is used in a position expecting type "${expected}".`
        : undefined
  ],
  [/^Variable "\$[^"]*" is never used/, () => messages.unusedVariable],
  [/^Variable "\$[^"]*" is not defined/, () => messages.undefinedVariable],
  [/^Variable "\$/, () => messages.variable],
  [/cannot represent|^Expected value of type|^Expected type /, () => messages.literal]
]

/** The fixed message of an error no rewrite covers, by its code. */
const fallback = (code: unknown): string =>
  code === "GRAPHQL_PARSE_FAILED"
    ? messages.syntax
    : code === "BAD_REQUEST"
      ? messages.request
      : code === "BAD_USER_INPUT"
        ? messages.variable
        : messages.invalid

/**
 * The message `error` is answered with, given the schema's names.
 *
 * @since 0.1.0
 * @category utils
 */
export const safeMessage = (error: GraphQLError, names: ReadonlySet<string>): string => {
  const message = error.message
  if (isTrusted(error) || keptMessages.some((kept) => kept.test(message))) return message
  if (message.startsWith("Unexpected parameter ")) return messages.parameter
  for (const [pattern, rewrite] of rewrites) {
    const match = pattern.exec(message)
    if (match !== null) return rewrite(match, names) ?? fallback(error.extensions?.code)
  }
  return fallback(error.extensions?.code)
}

/** Extensions of a rewritten error that carry no client input. */
const keptExtensions = ["code", "http", "unexpected"] as const

/**
 * `error` with a safe message and no extension beyond {@link keptExtensions}.
 *
 * @since 0.1.0
 * @category utils
 */
export const sanitise = (error: GraphQLError, names: ReadonlySet<string>): GraphQLError => {
  if (isTrusted(error)) return error
  const extensions: Record<string, unknown> = {}
  for (const name of keptExtensions)
    if (error.extensions?.[name] !== undefined) extensions[name] = error.extensions[name]
  // yoga answers a spec error 200 to application/json clients unless it carries an `originalError`
  // (a body that is not JSON, say, is a 400); without that extension, the status has to say so itself.
  const http = extensions.http as { readonly spec?: boolean } | undefined
  if (error.extensions?.originalError !== undefined && http?.spec === true) extensions.http = { ...http, spec: false }
  return createGraphQLError(safeMessage(error, names), {
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions
  })
}

const isExecutionResult = (result: unknown): result is ExecutionResult =>
  typeof result === "object" && result !== null && !Array.isArray(result) && "errors" in result

/** An error of a request yoga could not parse (a JSON syntax error, say): 400, fixed message. */
const unparsable = () =>
  createGraphQLError(messages.request, { extensions: { code: "BAD_REQUEST", http: { status: 400 } } })

const isThenable = <A>(value: A | PromiseLike<A>): value is PromiseLike<A> =>
  typeof (value as { then?: unknown } | null)?.then === "function"

const isGraphQLError = (error: unknown): error is GraphQLError =>
  error instanceof Error && error.name === "GraphQLError"

/**
 * The plugin over `schema` (whose names rewritten messages may mention).
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = (schema: GraphQLSchema): Plugin => {
  const names = namesOf(schema)
  type Parser = NonNullable<Parameters<NonNullable<Plugin["onRequestParse"]>>[0]["requestParser"]>
  const rethrow = (error: unknown): never => {
    throw isGraphQLError(error) ? error : unparsable()
  }
  // One wrapper per parser (yoga has a handful), not one per request.
  const guarded = new WeakMap<Parser, Parser>()
  const guard = (parser: Parser): Parser => {
    let wrapped = guarded.get(parser)
    if (wrapped === undefined) {
      wrapped = (request) => {
        try {
          const parsed = parser(request)
          return isThenable(parsed) ? parsed.then((params) => params, rethrow) : parsed
        } catch (error) {
          return rethrow(error)
        }
      }
      guarded.set(parser, wrapped)
    }
    return wrapped
  }
  return {
    onRequestParse: ({ requestParser, setRequestParser }) => {
      if (requestParser !== undefined) setRequestParser(guard(requestParser))
    },
    onResultProcess: ({ result, setResult }) => {
      if (!isExecutionResult(result) || result.errors === undefined || result.errors.length === 0) return
      setResult({ ...result, errors: result.errors.map((error) => sanitise(error, names)) })
    }
  }
}
