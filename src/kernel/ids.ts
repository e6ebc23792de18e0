// New ids: random base62 strings.
import { customAlphabet } from 'nanoid';

/** 22 random base62 characters (~131 bits), like the ids of the published API's examples. */
export const newId = customAlphabet('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 22);
