// Unions and enums in the client generated for tests/codegen/cases/shapes.py.
import { createClient, type GalleryInput, type Visibility } from "./shapes/index.js";
import { type Equal, expectType } from "./assert.js";

const client = createClient({ url: "http://127.0.0.1:8000/graphql" });

export async function unions(): Promise<void> {
  // per-member selections give a union discriminated by `__typename`
  const gallery = await client.query.gallery(
    { id: "g" },
    { cover: { __on: { Photo: { width: true }, Video: { seconds: true } } }, pinned: { __on: { Quote: { text: true } } } },
  );
  expectType<
    Equal<
      typeof gallery,
      {
        cover: { __typename: "Photo"; width: number } | { __typename: "Video"; seconds: number };
        pinned: { __typename: "Photo" } | { __typename: "Quote"; text: string } | null;
      } | null
    >
  >();
  if (gallery !== null && gallery.cover.__typename === "Video") {
    expectType<Equal<typeof gallery.cover.seconds, number>>();
  }

  // `true` on a union: every member's default fields; lists of unions stay lists
  const all = await client.query.gallery({ id: "g" }, { items: true, visibility: true, moods: true });
  expectType<
    Equal<
      typeof all,
      {
        items: (
          | { __typename: "Photo"; url: string; width: number }
          | { __typename: "Video"; url: string; seconds: number }
          | { __typename: "Quote"; text: string; mood: "CALM" | "LOUD" }
        )[];
        visibility: Visibility;
        moods: ("CALM" | "LOUD")[];
      } | null
    >
  >();

  // @oneOf inputs: exactly one member
  const input: GalleryInput = { title: "G", visibility: "PUBLIC", cover: { photo: { url: "u", width: 1 } } };
  await client.mutation.createGallery({ input }, { node: { id: true } });

  // @ts-expect-error a member the union does not have
  await client.query.gallery({ id: "g" }, { cover: { __on: { Quote: { text: true } } } });
  // @ts-expect-error a field of another member
  await client.query.gallery({ id: "g" }, { cover: { __on: { Photo: { seconds: true } } } });
  // @ts-expect-error a union field cannot be selected without `__on`
  await client.query.gallery({ id: "g" }, { cover: { url: true } });
  // @ts-expect-error two members of a @oneOf input
  const both: GalleryInput = { title: "G", visibility: "PUBLIC", cover: { photo: { url: "u", width: 1 }, video: { url: "u", seconds: 1 } } };
  // @ts-expect-error an enum value the schema does not have
  const hidden: Visibility = "HIDDEN";

  const cover = await client.query.gallery({ id: "g" }, { cover: { __on: { Photo: { width: true }, Video: { seconds: true } } } });
  // @ts-expect-error a member's field before narrowing on `__typename`
  cover?.cover.width;
  void [both, hidden];
}
