package dev.qlora4j.cuda;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reflection over a jextract-shaped bindings class: finds its functions (by their
 * {@code $descriptor} accessors) and constant getters, and lists what disagrees with a header or
 * with the loaded library. Each check returns a list of problems, empty when all is well.
 */
final class JextractShape {
    private final Class<?> bindings;

    JextractShape(Class<?> bindings) {
        this.bindings = bindings;
    }

    /** Names of the bound functions: those with a public {@code $descriptor} accessor. */
    Set<String> functions() {
        Set<String> names = new TreeSet<>();
        for (Method m : bindings.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && m.getName().endsWith("$descriptor")) {
                names.add(m.getName().substring(0, m.getName().length() - "$descriptor".length()));
            }
        }
        return names;
    }

    /** Names of the constant getters: public static no-argument int methods that are not functions. */
    Set<String> constants() {
        Set<String> functions = functions();
        Set<String> names = new TreeSet<>();
        for (Method m : bindings.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers()) && m.getParameterCount() == 0
                    && m.getReturnType() == int.class && !functions.contains(m.getName())) {
                names.add(m.getName());
            }
        }
        return names;
    }

    /** Calls a public static no-argument method; what it throws comes back as an AssertionError. */
    Object call(String method) {
        try {
            return bindings.getMethod(method).invoke(null);
        } catch (InvocationTargetException e) {
            throw new AssertionError(method + ": " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(method + ": " + e, e);
        }
    }

    /** Functions whose descriptor differs from any declaration in {@code header}, or that it lacks. */
    List<String> descriptorMismatches(CHeader header) {
        List<String> problems = new ArrayList<>();
        for (String fn : functions()) {
            List<FunctionDescriptor> declared = header.prototypes(fn);
            if (declared.isEmpty()) {
                problems.add(fn + ": not declared in the header");
                continue;
            }
            String bound = CHeader.shape((FunctionDescriptor) call(fn + "$descriptor"));
            for (FunctionDescriptor d : declared) {
                if (!CHeader.shape(d).equals(bound)) {
                    problems.add(fn + ": header " + CHeader.shape(d) + ", bound " + bound);
                }
            }
        }
        return problems;
    }

    /** Constants named in {@code names} whose value differs from {@code header}'s, or that it lacks. */
    List<String> constantMismatches(CHeader header, Set<String> names) {
        List<String> problems = new ArrayList<>();
        for (String name : names) {
            Optional<Long> value = header.constant(name);
            int bound = (int) call(name);
            if (value.isEmpty()) {
                problems.add(name + ": not in the header");
            } else if (value.get() != bound) {
                problems.add(name + ": header " + value.get() + ", bound " + bound);
            }
        }
        return problems;
    }

    /** Functions whose symbol does not resolve in the loaded library. */
    List<String> unresolvedSymbols() {
        List<String> problems = new ArrayList<>();
        for (String fn : functions()) {
            try {
                if (((MemorySegment) call(fn + "$address")).address() == 0) {
                    problems.add(fn + ": null address");
                }
            } catch (AssertionError e) {
                problems.add(e.getMessage());
            }
        }
        return problems;
    }

    /** Wrappers whose Java signature is not their handle's type, so their invokeExact would throw. */
    List<String> wrapperMismatches() {
        List<String> problems = new ArrayList<>();
        for (String fn : functions()) {
            MethodType handle = ((MethodHandle) call(fn + "$handle")).type();
            Optional<Method> wrapper = Arrays.stream(bindings.getMethods()).filter(m -> m.getName().equals(fn)).findFirst();
            if (wrapper.isEmpty()) {
                problems.add(fn + ": no wrapper");
            } else {
                MethodType java = MethodType.methodType(wrapper.get().getReturnType(), wrapper.get().getParameterTypes());
                if (!java.equals(handle)) {
                    problems.add(fn + ": wrapper " + java + ", handle " + handle);
                }
            }
        }
        return problems;
    }
}
