/** Room template types, zod-free: the client library's declarations include them. */

/** `'order:{orderId}'` -> `'orderId'`; `'admin'` -> never. */
export type RoomParamNames<T extends string> = T extends `${string}{${infer P}}${infer Rest}`
  ? P | RoomParamNames<Rest>
  : never;

/** The values a room template needs: `{ orderId: string | number }`. */
export type RoomParams<T extends string> = { [K in RoomParamNames<T>]: string | number };
