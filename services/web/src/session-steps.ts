/** The session calls of the runner: one step, completion, reload; each answers the session as it is now. */
import { answerOf, api, type Outcome, type Session, type StepOperation } from "./api.js";

export async function loadSession(id: string): Promise<Session> {
  return answerOf(await api.GET("/api/v1/sessions/{id}", { params: { path: { id } } }));
}

export async function step(id: string, operation: StepOperation): Promise<Session> {
  return answerOf(await api.PUT("/api/v1/sessions/{id}", { params: { path: { id } }, body: operation }));
}

/** At a solution `outcome` may be left out: the solution's own applies. */
export async function complete(id: string, outcome: Outcome | undefined, notes: string): Promise<Session> {
  const body = outcome ? { outcome, notes } : { notes };
  return answerOf(await api.POST("/api/v1/sessions/{id}/complete", { params: { path: { id } }, body }));
}
