import { describe, expect, it } from "vitest";
import { BodyBudget, BodyBudgetExceededError } from "./bodyBudget.js";

describe("BodyBudget", () => {
  it("holds up to the per-client limit, then refuses that client only", () => {
    const budget = new BodyBudget({ perClientBytes: 100, totalBytes: 1_000 });
    budget.reserve("a", 60);
    budget.reserve("a", 40);
    expect(() => budget.reserve("a", 1)).toThrow(BodyBudgetExceededError);
    expect(() => budget.reserve("a", 1)).toThrow(/100 bytes held, 1 more asked, at most 100 \(--max-body-buffer-bytes-per-ip\)/);
    budget.reserve("b", 100);
    expect(budget.held("a")).toBe(100);
    expect(budget.held()).toBe(200);
  });

  it("refuses anyone once the total is held, and a refusal holds nothing", () => {
    const budget = new BodyBudget({ perClientBytes: 100, totalBytes: 150 });
    budget.reserve("a", 100);
    const refusal = (() => {
      try {
        budget.reserve("b", 60);
      } catch (error) {
        return error as BodyBudgetExceededError;
      }
    })();
    expect(refusal).toBeInstanceOf(BodyBudgetExceededError);
    expect(refusal).toMatchObject({ code: 8, httpStatus: 429, retryAfterSeconds: 1 });
    expect(refusal!.message).toMatch(/--max-body-buffer-bytes\)/);
    expect(budget.held("b")).toBe(0);
    expect(budget.held()).toBe(100);
  });

  it("gives back what is released, and forgets clients that hold nothing", () => {
    const budget = new BodyBudget({ perClientBytes: 100, totalBytes: 150 });
    budget.reserve("a", 100);
    budget.release("a", 100);
    expect(budget.held("a")).toBe(0);
    expect(budget.held()).toBe(0);
    budget.reserve("b", 100);
    budget.release("b", 0);
    expect(budget.held()).toBe(100);
  });
});
