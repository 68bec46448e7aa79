package dev.qlora4j.engine;

import java.util.ArrayList;

/**
 * Owns every tensor created on this thread while it is the innermost open scope, and closes them
 * when it closes — except those passed to {@link #keep}, which move to the enclosing scope (or to
 * the caller when there is none).
 *
 * <pre>{@code
 * try (Scope step = Scope.open()) {
 *     Tensor h = Ops.matmul(x, w);          // freed when the scope closes
 *     Tensor loss = step.keep(Ops.sum(h, 1)); // survives it
 * }
 * }</pre>
 *
 * Scopes nest and must be closed in the reverse order of opening, on the thread that opened them.
 * Not thread-safe: a scope belongs to one thread.
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();

    private final Scope parent;
    private final Thread owner;
    private final ArrayList<Tensor> owned = new ArrayList<>();
    private boolean closed;

    private Scope(Scope parent) {
        this.parent = parent;
        this.owner = Thread.currentThread();
    }

    /** Opens a scope nested in the current one and makes it current. */
    public static Scope open() {
        Scope s = new Scope(CURRENT.get());
        CURRENT.set(s);
        return s;
    }

    /**
     * Runs {@code make} with no scope current, so the tensors it creates belong to the caller
     * whatever scope is open — for state that outlives a step, such as optimizer moments.
     */
    public static <T> T unscoped(java.util.function.Supplier<T> make) {
        Scope s = CURRENT.get();
        CURRENT.remove();
        try {
            return make.get();
        } finally {
            if (s != null) {
                CURRENT.set(s);
            }
        }
    }

    /** Records a tensor just created, when a scope is open on this thread. */
    static void register(Tensor t) {
        Scope s = CURRENT.get();
        if (s != null) {
            s.owned.add(t);
        }
    }

    /**
     * Takes {@code t} out of this scope: it moves to the enclosing scope, or, with none, the caller
     * now closes it.
     *
     * @throws IllegalArgumentException when this scope does not own {@code t}
     */
    public <T extends Tensor> T keep(T t) {
        checkUsable("keep");
        for (int i = owned.size() - 1; i >= 0; i--) {
            if (owned.get(i) == t) {
                owned.remove(i);
                if (parent != null) {
                    parent.owned.add(t);
                }
                return t;
            }
        }
        throw new IllegalArgumentException("Scope.keep: tensor " + t.describe()
                + " was not created in this scope (or was already kept)");
    }

    /** Closes every tensor this scope still owns, newest first, and makes the enclosing scope current. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        checkUsable("close");
        if (CURRENT.get() != this) {
            throw new IllegalStateException("Scope.close: an inner scope is still open; close scopes in reverse order of opening");
        }
        closed = true;
        for (int i = owned.size() - 1; i >= 0; i--) {
            owned.get(i).close();
        }
        owned.clear();
        if (parent != null) {
            CURRENT.set(parent);
        } else {
            CURRENT.remove();
        }
    }

    private void checkUsable(String op) {
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("Scope." + op + ": called on " + Thread.currentThread().getName()
                    + " but the scope belongs to " + owner.getName());
        }
        if (closed) {
            throw new IllegalStateException("Scope." + op + ": the scope is closed");
        }
    }
}
