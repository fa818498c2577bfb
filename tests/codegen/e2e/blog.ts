// End to end against a real `specql serve` of the example app, through the
// generated client: `node blog.js URL UNUSED_PORT` prints one JSON line per step.
import {
  createClient,
  GraphQLRequestError,
  NetworkError,
  paginate,
  SpecQLClientError,
  type FetchLike,
} from "./client/index.js";

const [url, unusedPort] = process.argv.slice(2) as [string, string];
const say = (step: string, value: unknown): void => console.log(JSON.stringify({ step, value }));

let requests = 0;
let lastBody = "";
const globalFetch = (globalThis as unknown as { fetch: FetchLike }).fetch;
const client = createClient({
  url,
  headers: async () => ({ "x-specql-user": "e2e-user" }), // the server takes the acting user from it
  fetch: (target, init) => {
    requests += 1;
    lastBody = init.body;
    return globalFetch(target, init);
  },
});

/** The error a call fails with, or "no error". */
async function failure(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  return "no error";
}

async function main(): Promise<void> {
  const { node: grace } = await client.mutation.createUser(
    { input: { email: "grace@example.org", name: "Grace" } },
    { node: { id: true, name: true, meta: { createdBy: true } } },
  );
  say("createUser", { name: grace.name, createdBy: grace.meta.createdBy });

  const posts = [];
  for (const title of ["E2E one", "E2E two", "E2E three"]) {
    const input = { title, body: `${title}.`, authorId: grace.id, tags: ["e2e"], status: "PUBLISHED" as const };
    posts.push(
      (await client.mutation.createPost({ input }, { node: { id: true, title: true, status: true, revision: { revisionId: true, number: true } } })).node,
    );
  }
  say("createPost", posts.map((post) => [post.title, post.status, post.revision.number]));
  const [one, two, three] = posts as [(typeof posts)[number], (typeof posts)[number], (typeof posts)[number]];

  const read = await client.query.post({ id: one.id }, { title: true, author: { name: true, email: true } });
  say("readWithAuthor", read);

  const byDefault = await client.query.post({ id: one.id });
  say("defaultSelection", byDefault === null ? null : Object.keys(byDefault).sort());

  const where = { tags: { eq: "e2e" }, title: { startsWith: "E2E" } };
  const first = await client.query.posts(
    { where, orderBy: [{ title: "DESC" }], first: 2 },
    { totalCount: true, nodes: { title: true }, pageInfo: { hasNextPage: true, endCursor: true } },
  );
  const second = await client.query.posts(
    { where, orderBy: [{ title: "DESC" }], first: 2, after: first.pageInfo.endCursor },
    { nodes: { title: true }, pageInfo: { hasNextPage: true } },
  );
  say("search", {
    totalCount: first.totalCount,
    pages: [first.nodes.map((post) => post.title), second.nodes.map((post) => post.title)],
    hasNextPage: [first.pageInfo.hasNextPage, second.pageInfo.hasNextPage],
  });

  const input = { title: "E2E two, edited", body: "Edited.", authorId: grace.id, tags: ["e2e"] };
  const { node: updated, changed } = await client.mutation.updatePost(
    { id: two.id, input, expectedRevisionId: two.revision.revisionId },
    { changed: true, node: { title: true, revision: { number: true, parentRevisionId: true } } },
  );
  say("update", { title: updated.title, changed, number: updated.revision.number, parentIsOld: updated.revision.parentRevisionId === two.revision.revisionId });

  const stale = await failure(() =>
    client.mutation.updatePost({ id: two.id, input: { ...input, body: "Lost?" }, expectedRevisionId: two.revision.revisionId }, { node: { title: true } }),
  );
  if (!(stale instanceof GraphQLRequestError)) throw stale;
  say("staleUpdate", {
    code: stale.code,
    graphql: stale instanceof GraphQLRequestError,
    network: stale instanceof NetworkError,
    base: stale instanceof SpecQLClientError,
    expected: stale.extensions["expected"] === two.revision.revisionId,
  });

  const history = await client.query.post(
    { id: two.id },
    { revisions: { totalCount: true, edges: { node: { number: true, createdBy: true } } } },
  );
  say("revisions", history === null ? null : {
    totalCount: history.revisions.totalCount,
    numbers: history.revisions.edges.map((edge) => edge.node.number),
    createdBy: history.revisions.edges.map((edge) => edge.node.createdBy),
  });

  const walked: string[] = [];
  for await (const post of client.paginate.posts({ where, orderBy: [{ title: "ASC" }], first: 1 }, { title: true, author: { name: true } })) {
    walked.push(`${post.title} by ${post.author?.name}`);
  }
  say("paginate", walked);

  const numbers: number[] = [];
  const revisionPages = paginate(async (after) => {
    const post = await client.query.post(
      { id: two.id },
      { revisions: { __args: { first: 1, after }, edges: { node: { number: true } }, pageInfo: { hasNextPage: true, endCursor: true } } },
    );
    if (post === null) throw new Error("the post vanished");
    return post.revisions;
  });
  for await (const revision of revisionPages) numbers.push(revision.number);
  say("paginateRevisions", numbers);

  const author = await client.query.user(
    { id: grace.id },
    { name: true, posts: { __args: { first: 10, orderBy: [{ title: "ASC" }] }, totalCount: true, nodes: { title: true } } },
  );
  say("referrers", author === null ? null : { totalCount: author.posts.totalCount, titles: author.posts.nodes.map((p) => p.title) });
  say("document", JSON.parse(lastBody)); // arguments travel as typed variables

  const missing = await failure(() => client.mutation.deletePost({ id: "no-such-post" }, { node: { id: true } }));
  say("notFound", missing instanceof GraphQLRequestError ? missing.code : String(missing));

  say("purge", (await client.mutation.purgePost({ id: three.id })) === three.id);
  say("purged", await client.query.post({ id: three.id }, { id: true }));

  const badInput = await failure(() =>
    client.request("mutation { createPost(input: {title: 1}) { node { id } } }"),
  );
  say("badRequest", badInput instanceof GraphQLRequestError ? badInput.code : String(badInput));

  const wrongPath = createClient({ url: url.replace(/\/graphql$/, "/nowhere") });
  const http = await failure(() => wrongPath.query.post({ id: one.id }));
  say("httpError", {
    network: http instanceof NetworkError,
    graphql: http instanceof GraphQLRequestError,
    status: http instanceof NetworkError ? http.status : null,
  });

  const closed = createClient({ url: `http://127.0.0.1:${unusedPort}/graphql` });
  const unreachable = await failure(() => closed.query.post({ id: one.id }));
  say("unreachable", {
    network: unreachable instanceof NetworkError,
    graphql: unreachable instanceof GraphQLRequestError,
    status: unreachable instanceof NetworkError ? unreachable.status : "?",
  });
  say("requests", requests);
}

main().catch((error: unknown) => {
  say("crash", error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  process.exitCode = 1;
});
