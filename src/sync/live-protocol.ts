// The dashboard's live feed (`/live`): an admin's socket on which the server pushes the session
// summaries that change. Declared once for the server (server/live.ts) and the dashboard.
import * as v from 'valibot';
import { parseBounded, type Parsed } from './bounded-json';
import { TokenSchema } from './protocol';
import { SessionSummarySchema } from './trainer-api';

/** The first message on `/live` carries the admin credential (never the URL). */
export const LiveClientMessageSchema = v.strictObject({ type: v.literal('hello'), token: TokenSchema });
export type LiveClientMessage = v.InferOutput<typeof LiveClientMessageSchema>;

/** Summaries that changed (upserts, newest first); the first one after hello is the first page. */
export const LiveServerMessageSchema = v.strictObject({ type: v.literal('sessions'), sessions: v.array(SessionSummarySchema) });
export type LiveServerMessage = v.InferOutput<typeof LiveServerMessageSchema>;

/** The live feed's first message is small: anything over 1 KiB is not a hello. */
export const parseLiveClientMessage = (raw: string): Parsed<LiveClientMessage> => parseBounded(LiveClientMessageSchema, raw, 1024);
export const parseLiveServerMessage = (raw: string): Parsed<LiveServerMessage> => parseBounded(LiveServerMessageSchema, raw, Number.MAX_SAFE_INTEGER);
