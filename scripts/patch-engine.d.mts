/** Types of what TypeScript code imports from scripts/patch-engine.mjs. */
/** Identifies the exact patch list (ids and code): a bundle patched by another version does not match. */
export declare const PATCH_FINGERPRINT: string;
