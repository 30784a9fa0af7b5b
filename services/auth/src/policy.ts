import { AppError, type Problem } from "@tdt/kit";
import { type EnumValue, FIELD_RULES } from "@tdt/proto/tdt/contract";

/** The account's session policy (SPEC §4.3). */
export interface SessionPolicy {
  preset: Preset;
  idle_max_seconds: number;
  abs_max_seconds: number;
  reuse_grace_seconds: number;
}

export type Preset = EnumValue<"tdt.auth.v1.SessionPolicyPreset">;

const DAY = 24 * 3600;

export const PRESETS: Record<Exclude<Preset, "custom">, Omit<SessionPolicy, "preset">> = {
  strict: { idle_max_seconds: 3 * DAY, abs_max_seconds: 14 * DAY, reuse_grace_seconds: 0 },
  standard: { idle_max_seconds: 7 * DAY, abs_max_seconds: 30 * DAY, reuse_grace_seconds: 10 },
  // NIST SP 800-63B AAL2: reauthenticate after 30 minutes idle and 12 hours in all.
  aal2: { idle_max_seconds: 30 * 60, abs_max_seconds: 12 * 3600, reuse_grace_seconds: 0 },
};

/** The contract's bounds (SetSessionPolicyRequest in auth.proto), which the gateway's schema reads too. */
const BOUNDS = FIELD_RULES["tdt.auth.v1.SetSessionPolicyRequest"];
/** 365 days. */
export const MAX_POLICY_SECONDS = BOUNDS.abs_max_seconds.int32.lte;
/** A grace window longer than this (300 s) would let a stolen token ride along for too long. */
export const MAX_REUSE_GRACE_SECONDS = BOUNDS.reuse_grace_seconds.int32.lte;

export interface PolicyRequest {
  preset: string;
  idle_max_seconds?: number | undefined;
  abs_max_seconds?: number | undefined;
  reuse_grace_seconds?: number | undefined;
}

/**
 * The policy an admin asked for, checked: a preset by name, or a custom one within
 * min ≤ idle ≤ absolute ≤ 365 d. Every problem is reported at once, as a 422.
 */
export function resolvePolicy(request: PolicyRequest, minSeconds: number): SessionPolicy {
  if (request.preset !== "custom") {
    const preset = PRESETS[request.preset as keyof typeof PRESETS];
    if (!preset) {
      throw AppError.invalid([
        { loc: ["body", "preset"], msg: "Must be strict, standard, aal2 or custom", type: "enum" },
      ]);
    }
    return { preset: request.preset as Preset, ...preset };
  }
  const problems: Problem[] = [];
  const field = (name: "idle_max_seconds" | "abs_max_seconds" | "reuse_grace_seconds", min: number, max: number) => {
    const value = request[name];
    if (value === undefined) {
      problems.push({ loc: ["body", name], msg: "Field required for a custom policy", type: "missing" });
    } else if (!Number.isInteger(value) || value < min || value > max) {
      problems.push({ loc: ["body", name], msg: `Must be a whole number from ${min} to ${max}`, type: "out_of_range" });
    }
    return value ?? 0;
  };
  const idle = field("idle_max_seconds", minSeconds, MAX_POLICY_SECONDS);
  const absolute = field("abs_max_seconds", minSeconds, MAX_POLICY_SECONDS);
  const grace = field("reuse_grace_seconds", 0, MAX_REUSE_GRACE_SECONDS);
  if (problems.length === 0 && idle > absolute) {
    problems.push({
      loc: ["body", "idle_max_seconds"],
      msg: "The idle limit cannot exceed the absolute limit",
      type: "idle_exceeds_absolute",
    });
  }
  if (problems.length > 0) throw AppError.invalid(problems);
  return { preset: "custom", idle_max_seconds: idle, abs_max_seconds: absolute, reuse_grace_seconds: grace };
}
