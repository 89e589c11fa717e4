// One task at a time per key, in arrival order, failures included; different keys run side by side.
import { describe, expect, it } from "vitest";
import { SerialQueues } from "./SerialQueues.js";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("SerialQueues", () => {
  it("runs the tasks of one key one after another, in order, each seeing the previous one finished", async () => {
    const queues = new SerialQueues();
    const events: string[] = [];
    let running = 0;
    const task = (name: string) => async () => {
      running++;
      expect(running).toBe(1);
      events.push(`start ${name}`);
      await tick();
      events.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all(["a", "b", "c"].map((name) => queues.run("k", task(name))));
    expect(results).toEqual(["a", "b", "c"]);
    expect(events).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
  });

  it("lets a failed task reject its caller without stopping the tasks behind it", async () => {
    const queues = new SerialQueues();
    const first = queues.run("k", async () => {
      throw new Error("boom");
    });
    const second = queues.run("k", async () => "still runs");
    await expect(first).rejects.toThrow("boom");
    await expect(second).resolves.toBe("still runs");
  });

  it("runs different keys concurrently and forgets keys that fall idle", async () => {
    const queues = new SerialQueues();
    let release!: () => void;
    const blocked = queues.run("a", () => new Promise<void>((resolve) => (release = resolve)));
    await expect(queues.run("b", async () => "b ran")).resolves.toBe("b ran");
    release();
    await blocked;
    await tick();
    expect(queues.activeKeys).toBe(0);
  });
});
