/**
 * Before the deploy tests: a Docker engine that answers, the public base images (pulled, or
 * stand-ins where no registry is reachable: infra/standin/build.sh), and the five TDT images of
 * the working tree as tdt/<name>:test-head. Prints each image's size.
 */
import { ROOT } from "../../scripts/root.js";
import { buildImages, docker, IMAGES, sh } from "./stack.js";

export const HEAD_TAG = "test-head";

export default async function setup(): Promise<void> {
  try {
    await docker("info", "--format", "{{.ServerVersion}}");
  } catch (error) {
    throw new Error(
      `the deploy tests need a running Docker engine and docker-compose (README, "Run it as containers"): ${String(error)}`,
    );
  }
  const started = Date.now();
  process.stdout.write(await sh("bash", [`${ROOT}/infra/standin/build.sh`]));
  const base = Date.now();
  await buildImages(HEAD_TAG);
  const built = Date.now();
  console.log(
    `base images ${((base - started) / 1000).toFixed(1)} s, TDT images ${((built - base) / 1000).toFixed(1)} s`,
  );
  for (const image of IMAGES) {
    const [size, user] = (
      await docker("image", "inspect", "--format", "{{.Size}} {{.Config.User}}", `tdt/${image}:${HEAD_TAG}`)
    )
      .trim()
      .split(" ");
    console.log(`tdt/${image}:${HEAD_TAG} ${(Number(size) / 1e6).toFixed(0)} MB, user ${user || "(image default)"}`);
  }
}
