// End to end against a real `specql serve tests.models:build_registry`: every
// field type, and a union, in and out through the generated client.
// `node fields.js URL` prints one JSON line per step.
import { createClient, type EverythingInput } from "./client/index.js";

const [url] = process.argv.slice(2) as [string];
const say = (step: string, value: unknown): void => console.log(JSON.stringify({ step, value }));
const client = createClient({ url });

async function main(): Promise<void> {
  const blob = await client.mutation.uploadBlob({ data: "AAEC", contentType: "application/octet-stream" });
  say("uploadBlob", { size: blob.size, contentType: blob.contentType });

  const input: EverythingInput = {
    point: { x: 1, y: 2 },
    points: [{ x: 3, y: 4 }],
    labels: ["a", "b"],
    scores: { math: 9, art: 7 },
    maybe: null,
    mode: "fast",
    color: "GREEN",
    level: "HIGH",
    at: "2026-11-23T10:00:00+00:00",
    day: "2026-11-23",
    uid: "12345678-1234-5678-1234-567812345678",
    amount: "12.50",
    shape: { square: { side: 2.5 } },
    file: { digest: blob.digest, size: blob.size },
  };
  const { node: made } = await client.mutation.createEverything(
    { input },
    { node: {
      id: true,
      point: { x: true },
      points: true,
      scores: true,
      color: true,
      level: true,
      day: true,
      uid: true,
      amount: true,
      flag: true,
      shape: { __on: { Circle: { radius: true }, Square: { side: true } } },
      file: { size: true },
    } },
  );
  const side = made.shape.__typename === "Square" ? made.shape.side : null; // narrowed by __typename
  say("createEverything", { ...made, id: typeof made.id, side });

  const byDefault = await client.query.everything({ id: made.id }, { shape: true, maybe: true, labels: true });
  say("unionDefault", byDefault);

  const typenameOnly = await client.query.everything({ id: made.id }, { shape: { __typename: true } });
  say("unionTypename", typenameOnly);

  const found = await client.query.everythings(
    { where: { color: { eq: "GREEN" }, level: { in: ["HIGH"] }, point: { x: { gte: 1 } } } },
    { totalCount: true, nodes: { shape: { __on: { Square: true } } } },
  );
  say("search", found);
}

main().catch((error: unknown) => {
  say("crash", error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  process.exitCode = 1;
});
