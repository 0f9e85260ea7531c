import type en from "./en";

/** The shape Italian and French must have: the same keys as English, strings at the leaves. */
export type MessagesTranslation = Shape<typeof en>;
type Shape<T> = T extends string ? string : { [K in keyof T]: Shape<T[K]> };
