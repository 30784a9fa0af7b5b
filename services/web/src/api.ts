/**
 * The one place that knows the API's shape: the typed client (generated from the gateway's
 * OpenAPI document), the types the screens use, and how an error answer becomes an ApiError.
 * Every call carries the access token and survives its expiry (session.ts refreshes once).
 */
import { createApiClient, type Schemas } from "@tdt/api-client";
import { authorizedFetch } from "./session.js";

export { ApiError, answerOf, type Problem } from "./api-error.js";
export type { Schemas };

export type User = Schemas["User"];
/** The caller, with how they sign in: linked providers, a password or not, a confirmed address or not. */
export type Me = Schemas["Me"];
export type Role = User["role"];
/** An organization the caller belongs to, with their role in it. */
export type Organization = Schemas["Organization"];
export type Tree = Schemas["Tree"];
export type TreeSummary = Schemas["TreeSummary"];
export type TreeNode = Schemas["Node"];
export type TreeInput = Schemas["TreeInput"];
export type TreeUpdate = Schemas["TreeUpdate"];
export type TreeDraft = Schemas["TreeDraft"];
export type TreeDraftSave = Schemas["TreeDraftSave"];
export type TreeDiff = Schemas["TreeDiff"];
export type HistoryEntry = Schemas["HistoryEntry"];
export type Session = Schemas["Session"];
export type StepOperation = Schemas["StepOperation"];
export type Outcome = NonNullable<Session["outcome"]>;
export type ReportFormat = "json" | "markdown" | "csv" | "pdf";
/** An image nodes show, as stored. */
export type Media = Schemas["Media"];
/** How far a tree is translated into one locale. */
export type TranslationSummary = Schemas["TranslationSummary"];
/** A tree's texts beside their translation into one locale. */
export type TreeTranslation = Schemas["TreeTranslation"];
export type TranslatedText = Schemas["TranslatedText"];

export const api = createApiClient({ baseUrl: location.origin, fetch: authorizedFetch });
