// The SpecQL client runtime, copied verbatim by `specql codegen ts`: the
// request, the errors, the selection -> document builder and the type-level
// machinery that turns a selection into its result type. It needs nothing
// but `fetch` (browsers, Node 20).

/** Any JSON value: what the `JSON` scalar carries. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

// ---------------------------------------------------------------- errors

const ERROR_CODES = [
  "NOT_FOUND",
  "CONFLICT",
  "VALIDATION_FAILED",
  "FORBIDDEN",
  "UNAUTHENTICATED",
  "BAD_REQUEST",
  "LIMIT_EXCEEDED",
  "INTERNAL",
] as const;

/** The codes a SpecQL server puts in `extensions.code` (app/errors.py). */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** One entry of a GraphQL response's `errors`. */
export interface GraphQLErrorItem {
  message: string;
  path?: (string | number)[];
  locations?: { line: number; column: number }[];
  extensions?: { [key: string]: JsonValue | undefined };
}

/** Base of every error the client throws. */
export class SpecQLClientError extends Error {
  override name = "SpecQLClientError";
}

/**
 * No GraphQL answer: `fetch` failed, the server answered non-2xx without a
 * GraphQL body, or the body was not GraphQL JSON.
 */
export class NetworkError extends SpecQLClientError {
  override name = "NetworkError";
  /** The HTTP status, or null when no response came. */
  readonly status: number | null;
  /** The response body, when there was one. */
  readonly body: string | null;

  constructor(
    message: string,
    details: { status?: number; body?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
    this.status = details.status ?? null;
    this.body = details.body ?? null;
  }
}

/**
 * The server answered with GraphQL errors. `code` is the first error's
 * `extensions.code` (`INTERNAL` when it is missing or unknown); `errors`
 * holds them all, `data` whatever partial data came with them.
 */
export class GraphQLRequestError extends SpecQLClientError {
  override name = "GraphQLRequestError";
  readonly code: ErrorCode;
  readonly errors: readonly GraphQLErrorItem[];
  /** The first error's extensions (e.g. `expected` and `actual` for a stale revision). */
  readonly extensions: { [key: string]: JsonValue | undefined };
  readonly data: JsonValue | null;
  readonly status: number;

  constructor(errors: readonly GraphQLErrorItem[], data: JsonValue | null, status: number) {
    const first = errors[0] ?? { message: "unknown error" };
    const raw = first.extensions?.["code"];
    const known = ERROR_CODES.find((code) => code === raw);
    const code: ErrorCode = known ?? "INTERNAL";
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    super(`${code}: ${first.message}${more}`);
    this.code = code;
    this.errors = errors;
    this.extensions = first.extensions ?? {};
    this.data = data;
    this.status = status;
  }
}

// ---------------------------------------------------------------- transport

/** The part of `fetch` the client uses; the global `fetch` fits it. */
export type FetchLike = (
  url: string,
  init: { method: "POST"; headers: Record<string, string>; body: string },
) => Promise<{ ok: boolean; status: number; statusText: string; text(): Promise<string> }>;

export type HeaderMap = Record<string, string>;

export interface ClientOptions {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:8000/graphql`. */
  url: string;
  /** Sent with every request; a function is called per request (fresh tokens). */
  headers?: HeaderMap | (() => HeaderMap | Promise<HeaderMap>);
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
}

type Data = { [field: string]: unknown };

function globalFetch(): FetchLike {
  const scope = globalThis as { fetch?: FetchLike };
  if (typeof scope.fetch !== "function") {
    throw new SpecQLClientError("no global fetch: pass `fetch` to createClient");
  }
  // called as a method of globalThis: browsers refuse a detached fetch
  return (url, init) => (scope.fetch as FetchLike).call(globalThis, url, init);
}

function isGraphQLBody(body: unknown): body is { data?: Data | null; errors?: GraphQLErrorItem[] } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return false;
  const errors = (body as { errors?: unknown }).errors;
  return (Array.isArray(errors) && errors.length > 0) || "data" in body;
}

async function send(options: ClientOptions, query: string, variables: Data): Promise<Data> {
  const doFetch = options.fetch ?? globalFetch();
  const extra = typeof options.headers === "function" ? await options.headers() : options.headers;
  const headers: HeaderMap = {
    "content-type": "application/json",
    accept: "application/graphql-response+json, application/json",
    ...extra,
  };
  let status: number;
  let text: string;
  let ok: boolean;
  try {
    const response = await doFetch(options.url, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
    ({ ok, status } = response);
    text = await response.text();
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new NetworkError(`request to ${options.url} failed: ${reason}`, { cause });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (isGraphQLBody(body)) {
    if (body.errors !== undefined && body.errors.length > 0) {
      throw new GraphQLRequestError(body.errors, (body.data ?? null) as JsonValue | null, status);
    }
    if (ok && body.data) return body.data;
  }
  const reason = ok ? "the answer is not a GraphQL response" : `HTTP ${status}`;
  throw new NetworkError(`${options.url}: ${reason}`, { status, body: text });
}

// ---------------------------------------------------------------- schema table

/** A field: its GraphQL type, and its arguments' GraphQL types if it has any. */
export type FieldMeta = string | readonly [type: string, args: { readonly [arg: string]: string }];

/** What the runtime knows of the schema: enough to write documents. */
export interface SchemaMeta {
  readonly query: string | null;
  readonly mutation: string | null;
  readonly objects: { readonly [type: string]: { readonly [field: string]: FieldMeta } };
  readonly unions: { readonly [type: string]: readonly string[] };
  /** Root query fields that are Relay connections, and where their nodes are. */
  readonly connections: { readonly [field: string]: "nodes" | "edges" };
}

const namedType = (type: string): string => type.replace(/[[\]!]/g, "");
const fieldType = (field: FieldMeta): string => (typeof field === "string" ? field : field[0]);
const fieldArgs = (field: FieldMeta): { readonly [arg: string]: string } =>
  typeof field === "string" ? {} : field[1];

type Json = { [key: string]: unknown };
/** `table[key]` if the table itself has it (never `constructor` and the like). */
const own = <V>(table: { readonly [key: string]: V }, key: string): V | undefined =>
  Object.hasOwn(table, key) ? table[key] : undefined;
const SELECTION_KEYS = new Set(["__args", "__on"]); // keys of a selection that are not fields
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Writes one operation: a selection becomes fields, arguments become variables. */
class DocumentWriter {
  readonly declarations: string[] = [];
  readonly variables: Data = {};

  constructor(private readonly meta: SchemaMeta) {}

  /** `(name: $variable, ...)` for the given arguments; undefined ones are left out. */
  arguments(args: unknown, types: { readonly [arg: string]: string }, path: string[]): string {
    const where = path.join(".");
    if (args === undefined) return "";
    if (!isObject(args)) throw new SpecQLClientError(`${where}: arguments must be an object`);
    const written: string[] = [];
    for (const [name, value] of Object.entries(args)) {
      if (value === undefined) continue;
      const type = own(types, name);
      if (type === undefined) throw new SpecQLClientError(`${where} has no argument ${name}`);
      const variable = this.variable([...path.slice(1), name].join("_"));
      this.declarations.push(`$${variable}: ${type}`);
      this.variables[variable] = value;
      written.push(`${name}: $${variable}`);
    }
    return written.length > 0 ? `(${written.join(", ")})` : "";
  }

  /** ` { ... }` for a selection of the named type, or "" for a scalar. */
  selectionSet(type: string, selection: unknown, path: string[]): string {
    const members = own(this.meta.unions, type);
    if (members !== undefined) return ` { ${this.unionFields(type, members, selection, path)} }`;
    if (own(this.meta.objects, type) === undefined) return "";
    return ` { ${this.objectFields(type, selection, path)} }`;
  }

  /** `__typename`, then `... on Member { ... }` per selected member (every one for `true`). */
  private unionFields(
    type: string,
    members: readonly string[],
    selection: unknown,
    path: string[],
  ): string {
    const parts = ["__typename"];
    let on: Json = {};
    if (selection === true) on = Object.fromEntries(members.map((member) => [member, true]));
    else if (isObject(selection) && isObject(selection["__on"])) on = selection["__on"];
    for (const [member, chosen] of Object.entries(on)) {
      if (chosen === undefined || chosen === false) continue;
      if (!members.includes(member)) throw new SpecQLClientError(`${type} has no member ${member}`);
      parts.push(`... on ${member} { ${this.objectFields(member, chosen, [...path, member])} }`);
    }
    return parts.join(" ");
  }

  private objectFields(type: string, selection: unknown, path: string[]): string {
    const fields = own(this.meta.objects, type) ?? {};
    const asked = Object.entries(isObject(selection) ? selection : {}).filter(
      ([key, value]) => !SELECTION_KEYS.has(key) && value !== undefined && value !== false,
    );
    if (asked.length === 0) return this.defaultFields(type);
    const parts: string[] = [];
    for (const [name, value] of asked) {
      if (name === "__typename") {
        parts.push(name);
        continue;
      }
      const field = own(fields, name);
      if (field === undefined) throw new SpecQLClientError(`${type} has no field ${name}`);
      const here = [...path, name];
      const args = isObject(value) ? this.arguments(value["__args"], fieldArgs(field), here) : "";
      parts.push(`${name}${args}${this.selectionSet(namedType(fieldType(field)), value, here)}`);
    }
    return parts.join(" ");
  }

  /** Scalar and enum fields without arguments. */
  private defaultFields(type: string): string {
    const fields = Object.entries(own(this.meta.objects, type) ?? {}).filter(
      ([, field]) => typeof field === "string" && this.isLeaf(namedType(field)),
    );
    return fields.length > 0 ? fields.map(([name]) => name).join(" ") : "__typename";
  }

  private isLeaf(type: string): boolean {
    return own(this.meta.objects, type) === undefined && own(this.meta.unions, type) === undefined;
  }

  private variable(base: string): string {
    let name = base;
    for (let n = 2; name in this.variables; n++) name = `${base}${n}`;
    return name;
  }
}

/** The document and variables for one root field. */
export function operation(
  meta: SchemaMeta,
  kind: "query" | "mutation",
  field: string,
  args: unknown,
  selection: unknown,
): { query: string; variables: Data } {
  const root = meta[kind];
  const fields = root === null ? undefined : own(meta.objects, root);
  const definition = fields === undefined ? undefined : own(fields, field);
  if (root === null || definition === undefined) {
    throw new SpecQLClientError(`the schema has no ${kind} ${field}`);
  }
  const writer = new DocumentWriter(meta);
  const written = writer.arguments(args, fieldArgs(definition), [kind]);
  const type = namedType(fieldType(definition));
  const set = writer.selectionSet(type, selection ?? true, [kind, field]);
  const declared = writer.declarations.length > 0 ? `(${writer.declarations.join(", ")})` : "";
  const query = `${kind} ${field}${declared} { ${field}${written}${set} }`;
  return { query, variables: writer.variables };
}

// ---------------------------------------------------------------- pagination

/** One page of a Relay connection, with `nodes` or `edges { node }`. */
export interface Page<N> {
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes?: readonly N[];
  edges?: readonly { node: N }[];
}

/**
 * Walks every page of a Relay connection: `fetchPage(after)` fetches the page
 * after a cursor (null for the first one) with `pageInfo { hasNextPage endCursor }`
 * selected; the nodes come out one by one.
 */
export async function* paginate<N>(
  fetchPage: (after: string | null) => Promise<Page<N>>,
): AsyncGenerator<N, void, undefined> {
  let after: string | null = null;
  for (;;) {
    const page: Page<N> = await fetchPage(after);
    yield* page.nodes ?? (page.edges ?? []).map((edge) => edge.node);
    const { hasNextPage, endCursor } = page.pageInfo;
    if (!hasNextPage) return;
    if (endCursor === null || endCursor === after) {
      throw new SpecQLClientError("the connection has a next page but no new endCursor");
    }
    after = endCursor;
  }
}

// ---------------------------------------------------------------- client

/** `after`, `before` and `last` belong to the paginator. */
export type PageArgs<A> = Omit<A, "after" | "before" | "last">;

type Untyped = { [field: string]: (...args: unknown[]) => unknown };

/** Builds the client object from the schema table; `createClient` gives it its type. */
export function buildClient<C>(options: ClientOptions, meta: SchemaMeta): C {
  type Kind = "query" | "mutation";
  const call = async (kind: Kind, field: string, args: unknown, selection: unknown) => {
    const { query, variables } = operation(meta, kind, field, args, selection);
    return (await send(options, query, variables))[field];
  };
  const functions = (kind: Kind): Untyped => {
    const root = meta[kind];
    const fields = root === null ? {} : (meta.objects[root] ?? {});
    return Object.fromEntries(
      Object.entries(fields).map(([field, definition]) => [
        field,
        typeof definition === "string"
          ? (selection: unknown) => call(kind, field, undefined, selection)
          : (args: unknown, selection: unknown) => call(kind, field, args, selection),
      ]),
    );
  };
  const paginators: Untyped = Object.fromEntries(
    Object.entries(meta.connections).map(([field, via]) => [
      field,
      (args: unknown, selection: unknown) => {
        const nodes = via === "nodes" ? (selection ?? true) : { node: selection ?? true };
        const page = { pageInfo: { hasNextPage: true, endCursor: true }, [via]: nodes };
        const base = isObject(args) ? args : {};
        return paginate(
          async (after) => (await call("query", field, { ...base, after }, page)) as Page<unknown>,
        );
      },
    ]),
  );
  const client = {
    query: functions("query"),
    mutation: functions("mutation"),
    paginate: paginators,
    request: (query: string, variables: Data = {}) => send(options, query, variables),
  };
  return client as unknown as C;
}

// ---------------------------------------------------------------- types

type Leaf = string | number | boolean | bigint | symbol | null | undefined;
type ElementOf<Shape> = Extract<NonNullable<Shape>, readonly unknown[]>[number];
type ObjectOf<Shape> = Exclude<Extract<NonNullable<Shape>, object>, readonly unknown[]>;

/**
 * `S` with every key that `Shape` does not have mapped to `never`, at every
 * depth: a generic `S extends Shape` escapes TypeScript's excess-property
 * check, so `selection: S & Exact<Shape, S>` restores it.
 */
export type Exact<Shape, S> = S extends Leaf
  ? S
  : S extends readonly unknown[]
    ? { [I in keyof S]: Exact<ElementOf<Shape>, S[I]> }
    : { [K in keyof S]: K extends keyof ObjectOf<Shape> ? Exact<ObjectOf<Shape>[K], S[K]> : never };

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type Typed = { __typename: string };

/** The field keys a selection asks for. */
type Asked<S> = {
  [K in keyof S]-?: K extends "__args" | "__on"
    ? never
    : S[K] extends false | undefined
      ? never
      : K;
}[keyof S];

/** Scalar and enum fields without arguments: what a selection naming no field gets. */
type Defaults<Shape> = {
  [K in keyof Shape]-?: K extends "__typename"
    ? never
    : boolean extends Shape[K]
      ? [Extract<Shape[K], object>] extends [never]
        ? K
        : never
      : never;
}[keyof Shape];

/** The selection shape of an object or union field; never for a scalar field. */
type NodeShape<FieldShape> = [Extract<FieldShape, object>] extends [never]
  ? never
  : [Exclude<keyof Extract<FieldShape, object>, "__args">] extends [never]
    ? never
    : Extract<FieldShape, object>;

/**
 * What a field of type `T` (nulls and lists included) comes back as, when its
 * selection shape is `FieldShape` and the caller selected `S`.
 */
export type FieldResult<T, FieldShape, S> = [NodeShape<FieldShape>] extends [never]
  ? T
  : Shaped<T, NodeShape<FieldShape>, S>;

type Shaped<T, Shape, S> = T extends null
  ? null
  : T extends readonly (infer E)[]
    ? Shaped<E, Shape, S>[]
    : T extends Typed
      ? "__on" extends keyof Shape
        ? MemberResult<T, Shape, S>
        : Fields<T, Shape, S>
      : T;

type Fields<T, Shape, S> = Simplify<
  S extends true
    ? Pick<T, Defaults<Shape> & keyof T>
    : [Asked<S>] extends [never]
      ? Pick<T, Defaults<Shape> & keyof T>
      : {
          [K in Asked<S> & keyof T]: K extends keyof Shape
            ? FieldResult<T[K], Shape[K], S[K & keyof S]>
            : T[K];
        }
>;

type MemberShape<Shape, Name> = Shape extends { __on?: infer On }
  ? Name extends keyof NonNullable<On>
    ? Extract<NonNullable<On>[Name], object>
    : never
  : never;

type MemberSelection<S, Name> = S extends true
  ? true
  : S extends { __on: infer On }
    ? Name extends keyof On
      ? On[Name]
      : false
    : false;

/** One member of a union: always its `__typename`, then what was selected on it. */
type MemberResult<T extends Typed, Shape, S> =
  MemberSelection<S, T["__typename"]> extends infer M
    ? [M] extends [false | undefined]
      ? { __typename: T["__typename"] }
      : Simplify<
          { __typename: T["__typename"] } & Fields<T, MemberShape<Shape, T["__typename"]>, M>
        >
    : never;
