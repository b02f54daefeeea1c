/**
 * Debian's chromium, driven by playwright-core, for the tests that open our HTML pages in a
 * real browser (.ci/run installs it; the tests skip, saying so, where it is absent).
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./cli.js";

export const CHROMIUM = "/usr/bin/chromium";
export const haveChromium = existsSync(CHROMIUM);

/** Where the browser tests leave their screenshots. */
export const ARTIFACTS = join(REPO_ROOT, "test-artifacts");

export type Browser = import("playwright-core").Browser;

/** A headless browser with nothing of its own reaching the network; playwright-core is loaded only here. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
  });
}
