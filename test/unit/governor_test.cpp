// The dispatch decision (SPEC "Rate limits", "Budget", "Concurrency", "Budgets per type",
// "Circuit breakers"): the batch is the largest every limit allows and `limited_by` names the
// tightest; past the soft threshold the batch is halved and the economy tier used; at the limit
// only critical work runs, or none.
#include "orchestrator/core/governor.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <vector>

namespace {

using namespace orchestrator::core;

constexpr MicroUsd usd = micro_usd_per_usd;

// A type and a system where nothing but batch_max binds.
TypeDemand roomy_type(int batch_max = 10) {
    TypeDemand t;
    t.name = "summarize";
    t.batch_max = batch_max;
    t.running = 0;
    t.connections_per_execution = 1;
    t.memory_mb_per_execution = 256;
    t.cost_per_task = 1 * usd;
    t.apis = {{"gemini", 1, 1000, true}};
    return t;
}

SystemCapacity roomy_system() {
    SystemCapacity s;
    s.connections_free = 20;
    s.memory_mb_free = 2048;
    s.budget_remaining = 500 * usd;
    s.budget_remaining_critical = 500 * usd;
    return s;
}

TEST(Governor, NothingTighterThanBatchMaxGrantsBatchMaxAtStandardTier) {
    const ExecutionPlan p = plan_execution(roomy_type(10), roomy_system());
    EXPECT_EQ(p.grant.max_tasks, 10);
    EXPECT_EQ(p.grant.limited_by, "batch_max");
    EXPECT_EQ(p.tier, ModelTier::standard);
    EXPECT_EQ(p.min_priority, 1);
}

TEST(Governor, ApiCallsLimitTheBatchByCallsPerTask) {
    TypeDemand t = roomy_type(10);
    t.apis = {{"gemini", 2, 7, true}}; // 7 calls, 2 a task: 3 tasks
    const ExecutionPlan p = plan_execution(t, roomy_system());
    EXPECT_EQ(p.grant.max_tasks, 3);
    EXPECT_EQ(p.grant.limited_by, "api:gemini");
}

TEST(Governor, TightestOfSeveralApisIsNamed) {
    TypeDemand t = roomy_type(10);
    t.apis = {{"gemini", 1, 8, true}, {"openai", 3, 15, true}}; // 8 vs 5
    const ExecutionPlan p = plan_execution(t, roomy_system());
    EXPECT_EQ(p.grant.max_tasks, 5);
    EXPECT_EQ(p.grant.limited_by, "api:openai");
}

TEST(Governor, ApiWithNoCallsLeftGrantsNothing) {
    TypeDemand t = roomy_type(10);
    t.apis = {{"gemini", 1, 0, true}};
    const ExecutionPlan p = plan_execution(t, roomy_system());
    EXPECT_EQ(p.grant.max_tasks, 0);
    EXPECT_EQ(p.grant.limited_by, "api:gemini");
}

TEST(Governor, CallsPerTaskZeroMeansUnlimitedByThatApi) {
    TypeDemand t = roomy_type(10);
    t.apis = {{"gemini", 0, 0, true}};
    const ExecutionPlan p = plan_execution(t, roomy_system());
    EXPECT_EQ(p.grant.max_tasks, 10);
    EXPECT_EQ(p.grant.limited_by, "batch_max");
}

TEST(Governor, GlobalBudgetLimitsTheBatch) {
    TypeDemand t = roomy_type(10);
    t.cost_per_task = 2 * usd;
    SystemCapacity s = roomy_system();
    s.budget_remaining = 9 * usd; // 4 tasks, 1 usd left over
    const ExecutionPlan p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 4);
    EXPECT_EQ(p.grant.limited_by, "budget");
    EXPECT_EQ(p.min_priority, 1);
}

TEST(Governor, BudgetExactlyForNTasksGrantsN) {
    TypeDemand t = roomy_type(10);
    t.cost_per_task = 250'000;
    SystemCapacity s = roomy_system();
    s.budget_remaining = 1 * usd;
    EXPECT_EQ(plan_execution(t, s).grant.max_tasks, 4);
    s.budget_remaining = 1 * usd - 1;
    EXPECT_EQ(plan_execution(t, s).grant.max_tasks, 3);
}

TEST(Governor, TypeBudgetTighterThanGlobalBudgetIsNamedByType) {
    TypeDemand t = roomy_type(10);
    t.type_budget_remaining = 3 * usd;
    const ExecutionPlan p = plan_execution(t, roomy_system());
    EXPECT_EQ(p.grant.max_tasks, 3);
    EXPECT_EQ(p.grant.limited_by, "budget:summarize");
}

TEST(Governor, GlobalBudgetTighterThanTypeBudgetIsNamedBudget) {
    TypeDemand t = roomy_type(10);
    t.type_budget_remaining = 8 * usd;
    SystemCapacity s = roomy_system();
    s.budget_remaining = 6 * usd;
    const ExecutionPlan p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 6);
    EXPECT_EQ(p.grant.limited_by, "budget");
}

TEST(Governor, ConcurrencyCapReachedGrantsNothing) {
    TypeDemand t = roomy_type(10);
    t.max_concurrent = 3;
    t.running = 3;
    ExecutionPlan p = plan_execution(t, roomy_system());
    EXPECT_EQ(p.grant.max_tasks, 0);
    EXPECT_EQ(p.grant.limited_by, "concurrency:summarize");
    t.running = 2; // one execution slot left: the batch is not limited by it
    p = plan_execution(t, roomy_system());
    EXPECT_EQ(p.grant.max_tasks, 10);
    EXPECT_EQ(p.grant.limited_by, "batch_max");
}

TEST(Governor, NoConcurrencyCapNeverLimits) {
    TypeDemand t = roomy_type(10);
    t.running = 1000;
    EXPECT_EQ(plan_execution(t, roomy_system()).grant.max_tasks, 10);
}

TEST(Governor, TooFewFreeConnectionsGrantsNothing) {
    TypeDemand t = roomy_type(10);
    t.connections_per_execution = 3;
    SystemCapacity s = roomy_system();
    s.connections_free = 2;
    ExecutionPlan p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 0);
    EXPECT_EQ(p.grant.limited_by, "connections");
    s.connections_free = 3; // exactly enough
    p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 10);
}

TEST(Governor, TooLittleFreeMemoryGrantsNothing) {
    TypeDemand t = roomy_type(10);
    t.memory_mb_per_execution = 512;
    SystemCapacity s = roomy_system();
    s.memory_mb_free = 511;
    ExecutionPlan p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 0);
    EXPECT_EQ(p.grant.limited_by, "memory");
    s.memory_mb_free = 512;
    p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 10);
}

TEST(Governor, OpenTypeBreakerGrantsNothing) {
    TypeDemand t = roomy_type(10);
    t.breaker_allows = false;
    const ExecutionPlan p = plan_execution(t, roomy_system());
    EXPECT_EQ(p.grant.max_tasks, 0);
    EXPECT_EQ(p.grant.limited_by, "breaker:summarize");
}

TEST(Governor, OpenApiBreakerGrantsNothingAndNamesTheApi) {
    TypeDemand t = roomy_type(10);
    t.apis = {{"gemini", 1, 100, true}, {"openai", 1, 100, false}};
    const ExecutionPlan p = plan_execution(t, roomy_system());
    EXPECT_EQ(p.grant.max_tasks, 0);
    EXPECT_EQ(p.grant.limited_by, "breaker:api:openai");
}

TEST(Governor, SeveralLimitsAtOnceTheTightestIsNamed) {
    TypeDemand t = roomy_type(20);
    t.apis = {{"gemini", 1, 12, true}, {"openai", 2, 22, true}}; // 12, 11
    t.cost_per_task = 1 * usd;
    t.type_budget_remaining = 7 * usd; // 7
    SystemCapacity s = roomy_system();
    s.budget_remaining = 9 * usd; // 9
    ExecutionPlan p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 7);
    EXPECT_EQ(p.grant.limited_by, "budget:summarize");

    t.type_budget_remaining = 50 * usd;
    p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 9);
    EXPECT_EQ(p.grant.limited_by, "budget");

    s.budget_remaining = 100 * usd;
    p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 11);
    EXPECT_EQ(p.grant.limited_by, "api:openai");

    t.batch_max = 10;
    p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 10);
    EXPECT_EQ(p.grant.limited_by, "batch_max");

    s.memory_mb_free = 0;
    p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 0);
    EXPECT_EQ(p.grant.limited_by, "memory");
}

TEST(Governor, TiesAreNamedByTheFirstLimitInCheckOrder) {
    // Order: batch_max, budget:soft, breakers, apis, concurrency, connections, memory, budget,
    // type budget.
    TypeDemand t = roomy_type(5);
    t.apis = {{"gemini", 1, 5, true}};
    SystemCapacity s = roomy_system();
    s.budget_remaining = 5 * usd;
    EXPECT_EQ(plan_execution(t, s).grant.limited_by, "batch_max");
    t.batch_max = 6;
    EXPECT_EQ(plan_execution(t, s).grant.limited_by, "api:gemini");
    t.apis[0].calls_available = 6;
    EXPECT_EQ(plan_execution(t, s).grant.limited_by, "budget");
    t.type_budget_remaining = 5 * usd;
    EXPECT_EQ(plan_execution(t, s).grant.limited_by, "budget");

    // Everything blocked at once: the type breaker is named first.
    t.breaker_allows = false;
    t.apis[0].breaker_allows = false;
    t.max_concurrent = 0;
    s.connections_free = 0;
    s.memory_mb_free = 0;
    s.budget_remaining = 0;
    const ExecutionPlan p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 0);
    EXPECT_EQ(p.grant.limited_by, "breaker:summarize");
}

TEST(Governor, SoftThresholdHalvesTheBatchAndUsesEconomyTier) {
    SystemCapacity s = roomy_system();
    s.past_soft_threshold = true;
    const ExecutionPlan p = plan_execution(roomy_type(10), s);
    EXPECT_EQ(p.grant.max_tasks, 5);
    EXPECT_EQ(p.grant.limited_by, "budget:soft");
    EXPECT_EQ(p.tier, ModelTier::economy);
}

TEST(Governor, SoftThresholdHalvesAnOddBatchMaxRoundingUp) {
    SystemCapacity s = roomy_system();
    s.past_soft_threshold = true;
    EXPECT_EQ(plan_execution(roomy_type(7), s).grant.max_tasks, 4);
    EXPECT_EQ(plan_execution(roomy_type(3), s).grant.max_tasks, 2);
    // A batch of one stays one (never halved to nothing); batch_max, first, keeps the name.
    const ExecutionPlan one = plan_execution(roomy_type(1), s);
    EXPECT_EQ(one.grant.max_tasks, 1);
    EXPECT_EQ(one.grant.limited_by, "batch_max");
    EXPECT_EQ(one.tier, ModelTier::economy);
}

TEST(Governor, SoftThresholdEconomyTierEvenWhenAnotherLimitIsTighter) {
    TypeDemand t = roomy_type(10);
    t.apis = {{"gemini", 1, 2, true}};
    SystemCapacity s = roomy_system();
    s.past_soft_threshold = true;
    const ExecutionPlan p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 2);
    EXPECT_EQ(p.grant.limited_by, "api:gemini");
    EXPECT_EQ(p.tier, ModelTier::economy);
}

TEST(Governor, BudgetExhaustedWithoutCriticalPriorityGrantsNothing) {
    TypeDemand t = roomy_type(10);
    SystemCapacity s = roomy_system();
    s.budget_remaining = 0;
    s.budget_remaining_critical =
        50 * usd; // unused: critical_priority 11 means no task is critical
    const ExecutionPlan p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 0);
    EXPECT_EQ(p.grant.limited_by, "budget");
    EXPECT_EQ(p.min_priority, 1);
}

TEST(Governor, BudgetExhaustedForNormalWorkCriticalReserveAllowsCriticalTasks) {
    TypeDemand t = roomy_type(10);
    t.cost_per_task = 2 * usd;
    SystemCapacity s = roomy_system();
    s.critical_priority = 9;
    s.budget_remaining = 1 * usd; // less than one task
    s.budget_remaining_critical = 7 * usd;
    const ExecutionPlan p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 3);
    EXPECT_EQ(p.grant.limited_by, "budget");
    EXPECT_EQ(p.min_priority, 9);
}

TEST(Governor, NormalBudgetLeftMeansNoPriorityFloorEvenWithAReserve) {
    TypeDemand t = roomy_type(10);
    SystemCapacity s = roomy_system();
    s.critical_priority = 9;
    s.budget_remaining = 2 * usd;
    s.budget_remaining_critical = 7 * usd;
    const ExecutionPlan p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 2);
    EXPECT_EQ(p.min_priority, 1);
}

TEST(Governor, CriticalReserveAlsoExhaustedGrantsNothing) {
    TypeDemand t = roomy_type(10);
    t.cost_per_task = 2 * usd;
    SystemCapacity s = roomy_system();
    s.critical_priority = 9;
    s.budget_remaining = 0;
    s.budget_remaining_critical = 1 * usd;
    const ExecutionPlan p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 0);
    EXPECT_EQ(p.grant.limited_by, "budget");
}

TEST(Governor, CriticalReserveFromTheLedgerAtTheLimit) {
    // Wiring budget.hpp into the capacity: $500 limit, $50 reserved for priority >= 9, $460
    // spent: normal work gets nothing, critical work up to $40 at the economy tier.
    BudgetPolicy policy;
    policy.critical_priority = 9;
    policy.critical_reserve = 50 * usd;
    BudgetLedger ledger;
    ledger.spent = 460 * usd;
    SystemCapacity s = roomy_system();
    s.budget_remaining = remaining(policy, ledger, false);
    s.budget_remaining_critical = remaining(policy, ledger, true);
    s.critical_priority = policy.critical_priority;
    s.past_soft_threshold = past_soft_threshold(policy, ledger);
    TypeDemand t = roomy_type(10);
    t.cost_per_task = 15 * usd;
    const ExecutionPlan p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 2);
    EXPECT_EQ(p.grant.limited_by, "budget");
    EXPECT_EQ(p.min_priority, 9);
    EXPECT_EQ(p.tier, ModelTier::economy);
}

TEST(Governor, CostZeroIsUnlimitedByBudget) {
    TypeDemand t = roomy_type(10);
    t.cost_per_task = 0;
    t.type_budget_remaining = 0;
    SystemCapacity s = roomy_system();
    s.budget_remaining = 0;
    s.budget_remaining_critical = 0;
    s.critical_priority = 9;
    const ExecutionPlan p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, 10);
    EXPECT_EQ(p.grant.limited_by, "batch_max");
    EXPECT_EQ(p.min_priority, 1);
}

TEST(Governor, HugeBudgetDoesNotOverflowTheTaskCount) {
    TypeDemand t = roomy_type(INT_MAX);
    t.cost_per_task = 1;
    t.apis.clear();
    t.type_budget_remaining = MicroUsd{1} << 60;
    SystemCapacity s = roomy_system();
    s.budget_remaining = MicroUsd{1} << 62;
    const ExecutionPlan p = plan_execution(t, s);
    EXPECT_EQ(p.grant.max_tasks, INT_MAX);
    EXPECT_EQ(p.grant.limited_by, "batch_max");
}

TEST(Governor, NoApisMeansNoApiLimit) {
    TypeDemand t = roomy_type(10);
    t.apis.clear();
    EXPECT_EQ(plan_execution(t, roomy_system()).grant.max_tasks, 10);
}

// ---- tasks_within ----

TEST(Governor, TasksWithinTakesThePrefixThatFits) {
    EXPECT_EQ(tasks_within({3, 4, 5}, 11), 2);
    EXPECT_EQ(tasks_within({3, 4, 5}, 6), 1);
    EXPECT_EQ(tasks_within({3, 4, 5}, 2), 0);
}

TEST(Governor, TasksWithinBudgetEqualToTheSumFits) {
    EXPECT_EQ(tasks_within({3, 4, 5}, 12), 3);
    EXPECT_EQ(tasks_within({3, 4, 5}, 7), 2);
    EXPECT_EQ(tasks_within({5}, 5), 1);
    EXPECT_EQ(tasks_within({3, 4, 5}, 100), 3);
}

TEST(Governor, TasksWithinStopsAtTheFirstTaskThatDoesNotFit) {
    // Best first: a cheaper task behind an expensive one is not taken out of order.
    EXPECT_EQ(tasks_within({2, 10, 1, 1}, 5), 1);
    EXPECT_EQ(tasks_within({10, 1}, 5), 0);
}

TEST(Governor, TasksWithinEmptyAndFreeTasks) {
    EXPECT_EQ(tasks_within({}, 100), 0);
    EXPECT_EQ(tasks_within({0, 0, 0}, 0), 3);
    EXPECT_EQ(tasks_within({0, 0, 1}, 0), 2);
}

TEST(Governor, TasksWithinExactMicroDollars) {
    const std::vector<MicroUsd> costs(1000, 333'333);
    EXPECT_EQ(tasks_within(costs, 333'333'000), 1000);
    EXPECT_EQ(tasks_within(costs, 333'332'999), 999);
}

} // namespace
