#pragma once
// Calling PostgreSQL from C++. A PostgreSQL error is a longjmp, which would skip every C++
// destructor between the raise and the catching sigsetjmp. pg_call runs the call under PG_TRY in
// a frame of its own and turns an error into PgError, so C++ unwinding runs the destructors; the
// SQL-function boundary then re-raises the original error unchanged.
//
// Rule for callers: the callable passed to pg_call holds no object with a destructor of its own
// (only PostgreSQL calls and trivially destructible values).
#include "orchestrator/pg/postgres.hpp"

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace orchestrator::pg {

// A PostgreSQL error caught under C++ code; carries the complete ErrorData to re-raise.
class PgError : public std::exception {
public:
    explicit PgError(ErrorData* data) : data_(data) {}
    const char* what() const noexcept override;
    ErrorData* data() const noexcept { return data_; }
    int sqlerrcode() const noexcept { return data_->sqlerrcode; }

private:
    ErrorData* data_;
};

namespace detail {
// Calls fn(arg) under PG_TRY; returns a copy of the error it raised, or nullptr.
ErrorData* call_catching_errors(void (*fn)(void*), void* arg);
} // namespace detail

template <typename F> auto pg_call(F&& fn) -> std::invoke_result_t<F&> {
    using Result = std::invoke_result_t<F&>;
    using Fn = std::remove_reference_t<F>;
    if constexpr (std::is_void_v<Result>) {
        if (ErrorData* error = detail::call_catching_errors(
                [](void* f) { (*static_cast<Fn*>(f))(); }, &fn))
            throw PgError(error);
    } else {
        static_assert(std::is_trivially_destructible_v<Result>,
                      "pg_call returns PostgreSQL values, not C++ objects");
        struct Call {
            Fn* fn;
            Result result;
        } call{&fn, Result{}};
        if (ErrorData* error = detail::call_catching_errors(
                [](void* c) {
                    auto* self = static_cast<Call*>(c);
                    self->result = (*self->fn)();
                },
                &call))
            throw PgError(error);
        return call.result;
    }
}

// For an object that holds a PostgreSQL resource for the extent of a C++ scope: its destructor
// releases the resource through release(), which does nothing when the scope is left by an
// exception. That exception is a PostgreSQL error on its way to abort the (sub)transaction,
// which releases the resource itself; PostgreSQL must not be called again before that.
class ScopedRelease {
public:
    ScopedRelease() : exceptions_on_entry_(std::uncaught_exceptions()) {}

    // fn releases what this object's owner holds; it is not expected to raise (the owner rules
    // out what would make it), and if it does the error is dropped: a destructor cannot throw.
    template <typename F> void release(F&& fn) const noexcept {
        if (std::uncaught_exceptions() > exceptions_on_entry_)
            return;
        try {
            pg_call(std::forward<F>(fn));
        } catch (...) {
        }
    }

private:
    int exceptions_on_entry_;
};

} // namespace orchestrator::pg
