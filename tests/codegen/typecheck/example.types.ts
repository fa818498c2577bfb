// What the client generated for the example app lets through, and what it
// refuses: every `@ts-expect-error` line must be an error (the test also
// compiles this file without them and checks each of those lines fails).
import {
  createClient,
  GraphQLRequestError,
  NetworkError,
  type ErrorCode,
  type PostSelection,
  type PostStatus,
} from "./example/index.js";
import { type Equal, expectType } from "./assert.js";

const client = createClient({ url: "http://127.0.0.1:8000/graphql" });

export async function selections(): Promise<void> {
  // the result has exactly the selected fields; nullability and lists as in the schema
  const post = await client.query.post({ id: "p" }, { id: true, title: true, tags: true, author: { name: true } });
  expectType<Equal<typeof post, { id: string; title: string; tags: string[]; author: { name: string } | null } | null>>();

  // no selection: every scalar and enum field without arguments
  const plain = await client.query.post({ id: "p" });
  expectType<
    Equal<
      typeof plain,
      {
        id: string;
        title: string;
        body: string;
        authorId: string;
        status: PostStatus;
        tags: string[];
        publishedAt: string | null;
      } | null
    >
  >();

  // `true` on an object field: its default selection
  const withAuthor = await client.query.post({ id: "p" }, { author: true });
  expectType<Equal<typeof withAuthor, { author: { id: string; email: string; name: string } | null } | null>>();

  // a connection, `where` and `orderBy` typed from the schema, enums as literals
  const page = await client.query.posts(
    { where: { status: { eq: "PUBLISHED" }, or: [{ tags: { eq: "intro" } }] }, orderBy: [{ publishedAt: "DESC" }], first: 10 },
    { totalCount: true, edges: { cursor: true, node: { title: true } }, pageInfo: { hasNextPage: true, endCursor: true } },
  );
  expectType<
    Equal<
      typeof page,
      {
        totalCount: number;
        edges: { cursor: string | null; node: { title: string } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      }
    >
  >();

  // arguments inside a selection, through `__args`
  const user = await client.query.user(
    { id: "u" },
    { name: true, posts: { __args: { first: 5, where: { title: { startsWith: "A" } } }, nodes: { title: true, revision: { number: true } } } },
  );
  expectType<Equal<typeof user, { name: string; posts: { nodes: { title: string; revision: { number: number } }[] } } | null>>();

  // `__typename` when asked for
  const typed = await client.query.post({ id: "p" }, { __typename: true, id: true });
  expectType<Equal<typeof typed, { __typename: "Post"; id: string } | null>>();

  // a selection kept in a variable keeps its literal types with `satisfies`
  const card = { title: true, meta: { updatedAt: true } } satisfies PostSelection;
  const carded = await client.query.post({ id: "p" }, card);
  expectType<Equal<typeof carded, { title: string; meta: { updatedAt: string } } | null>>();

  // mutations: input objects, optional arguments, scalar results
  const created = await client.mutation.createPost({ input: { title: "T", body: "B", authorId: "u" } }, { node: { id: true }, changed: true });
  expectType<Equal<typeof created, { node: { id: string }; changed: boolean }>>();
  const purged = await client.mutation.purgePost({ id: "p" });
  expectType<Equal<typeof purged, string>>();
  const batch = await client.mutation.createPosts({ inputs: [], atomic: true }, { ok: true, error: { code: true } });
  expectType<Equal<typeof batch, { ok: boolean; error: { code: string } | null }[]>>();

  // paginators yield nodes
  for await (const node of client.paginate.posts({ first: 2 }, { title: true })) {
    expectType<Equal<typeof node, { title: string }>>();
  }

  // @ts-expect-error an unknown field
  await client.query.post({ id: "p" }, { id: true, nope: true });
  // @ts-expect-error an unknown field in a nested selection
  await client.query.post({ id: "p" }, { author: { name: true, nope: true } });
  // @ts-expect-error an unknown field two levels down
  await client.query.posts({}, { nodes: { author: { profile: { bio: true, nope: true } } } });
  // @ts-expect-error a wrong argument type
  await client.query.post({ id: 1 }, { id: true });
  // @ts-expect-error a missing required argument
  await client.query.post({}, { id: true });
  // @ts-expect-error a missing required input field
  await client.mutation.createPost({ input: { title: "T", body: "B" } }, { node: { id: true } });
  // @ts-expect-error an enum value the schema does not have
  await client.query.posts({ where: { status: { eq: "ARCHIVED" } } });
  // @ts-expect-error a wrong argument type inside `__args`
  await client.query.user({ id: "u" }, { posts: { __args: { first: "5" }, nodes: { title: true } } });
  // @ts-expect-error an unknown argument inside `__args`
  await client.query.user({ id: "u" }, { posts: { __args: { frist: 5 }, nodes: { title: true } } });
  // @ts-expect-error `__args` on a field that takes none
  await client.query.post({ id: "p" }, { author: { __args: { first: 1 }, name: true } });
  // @ts-expect-error a sub-selection on a scalar field
  await client.query.post({ id: "p" }, { title: { length: true } });

  const narrow = await client.query.post({ id: "p" }, { title: true });
  // @ts-expect-error a field that was not selected
  narrow?.body;
  // @ts-expect-error the result may be null
  narrow.title;
}

export async function errors(): Promise<void> {
  try {
    await client.mutation.deletePost({ id: "p" }, { node: { id: true } });
  } catch (error) {
    if (error instanceof GraphQLRequestError) {
      expectType<Equal<typeof error.code, ErrorCode>>();
      if (error.code === "CONFLICT" || error.code === "NOT_FOUND") return;
      // @ts-expect-error a code outside the taxonomy
      if (error.code === "MISSING") return;
    }
    if (error instanceof NetworkError) {
      expectType<Equal<typeof error.status, number | null>>();
    }
  }
}
