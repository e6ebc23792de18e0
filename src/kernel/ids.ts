// New ids: random base62 strings.
import { customAlphabet } from 'nanoid';

/** 22 random base62 characters (~131 bits), like the ids of the published API's examples. */
export const newId = customAlphabet('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 22);

/** The longest id the API takes in a body, query or path (its own are 22 characters; room for imported ones). */
export const ID_MAX_LENGTH = 64;
