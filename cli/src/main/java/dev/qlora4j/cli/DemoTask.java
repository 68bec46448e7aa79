package dev.qlora4j.cli;

import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The demo's two synthetic tasks over six-letter words of distinct letters from {@code a..h}, one
 * character per token: the base model learns to copy a word ({@code C:fadceb>fadceb.}); the adapter
 * learns to shift each letter one place along the alphabet, h wrapping to a
 * ({@code S:fadceb>gbedfc.}) — a mapping the base has never seen, which a rank-8 change can express
 * because the alphabet has eight letters. Every example has the same length, so a batch needs no
 * padding. Words whose hash falls in one fifth of the space are held out from training and used to
 * measure exact-match accuracy.
 */
final class DemoTask {
    static final String LETTERS = "abcdefgh";
    /** One token per character; '_' (id 0) is never produced by the tasks. */
    static final String VOCAB = "_" + LETTERS + ":>.CS";
    static final int WORD = 6;
    /** Tokens of a whole example: marker, ':', word, '>', answer, '.'. */
    static final int LENGTH = 2 + WORD + 1 + WORD + 1;
    /** Tokens of a prompt: everything up to and including '>'. */
    static final int PROMPT = 2 + WORD + 1;

    enum Kind {
        COPY('C'), SHIFT('S');

        final char marker;

        Kind(char marker) {
            this.marker = marker;
        }

        String answer(String word) {
            if (this == COPY) {
                return word;
            }
            StringBuilder b = new StringBuilder();
            for (char c : word.toCharArray()) {
                b.append(LETTERS.charAt((LETTERS.indexOf(c) + 1) % LETTERS.length()));
            }
            return b.toString();
        }
    }

    private DemoTask() {
    }

    static String prompt(Kind kind, String word) {
        return kind.marker + ":" + word + ">";
    }

    static String example(Kind kind, String word) {
        return prompt(kind, word) + kind.answer(word) + ".";
    }

    /** Whether a word belongs to the held-out fifth (a fixed hash, the same in every run). */
    static boolean heldOut(String word) {
        int h = 0;
        for (char c : word.toCharArray()) {
            h = h * 31 + c;
        }
        return Math.floorMod(h * 0x9E3779B9, 5) == 0;
    }

    /** A word of distinct letters, from the held-out fifth or from the rest. */
    static String word(SplittableRandom r, boolean fromHeldOut) {
        while (true) {
            StringBuilder b = new StringBuilder();
            List<Character> pool = new ArrayList<>();
            for (char c : LETTERS.toCharArray()) {
                pool.add(c);
            }
            for (int i = 0; i < WORD; i++) {
                b.append(pool.remove(r.nextInt(pool.size())));
            }
            String w = b.toString();
            if (heldOut(w) == fromHeldOut) {
                return w;
            }
        }
    }

    /** Distinct held-out words, the same for a given seed. */
    static List<String> heldOutWords(int count, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        java.util.LinkedHashSet<String> words = new java.util.LinkedHashSet<>();
        while (words.size() < count) {
            words.add(word(r, true));
        }
        return new ArrayList<>(words);
    }

    static int id(char c) {
        int i = VOCAB.indexOf(c);
        if (i < 0) {
            throw new IllegalArgumentException("demo vocabulary: no token for '" + c + "'; expected one of " + VOCAB);
        }
        return i;
    }

    /**
     * A training batch of {@code size} examples from the training words: ids [size, LENGTH-1] and
     * next-token targets [size·(LENGTH-1)], with the loss only on the answer and its final '.'.
     */
    static Tensor[] batch(Kind kind, int size, SplittableRandom r) {
        float[] ids = new float[size * (LENGTH - 1)];
        float[] targets = new float[ids.length];
        for (int b = 0; b < size; b++) {
            String s = example(kind, word(r, false));
            for (int t = 0; t < LENGTH - 1; t++) {
                ids[b * (LENGTH - 1) + t] = id(s.charAt(t));
                targets[b * (LENGTH - 1) + t] = t + 1 >= PROMPT ? id(s.charAt(t + 1)) : -100;
            }
        }
        return new Tensor[]{Tensor.of(DType.I32, ids, size, LENGTH - 1), Tensor.of(DType.I32, targets, ids.length)};
    }

    /** The model's greedy completions of the prompts, one answer (without the '.') per word. */
    static List<String> complete(LlamaModel model, Kind kind, List<String> words) {
        int n = words.size();
        int[][] seqs = new int[n][LENGTH];
        for (int b = 0; b < n; b++) {
            String p = prompt(kind, words.get(b));
            for (int t = 0; t < PROMPT; t++) {
                seqs[b][t] = id(p.charAt(t));
            }
        }
        int vocab = model.config().vocabSize();
        for (int len = PROMPT; len < LENGTH; len++) {
            float[] ids = new float[n * len];
            for (int b = 0; b < n; b++) {
                for (int t = 0; t < len; t++) {
                    ids[b * len + t] = seqs[b][t];
                }
            }
            try (Scope s = Scope.open(); Tape.NoGrad off = Tape.noGrad()) {
                float[] logits = model.forward(Tensor.of(DType.I32, ids, n, len)).value().toFloatArray();
                for (int b = 0; b < n; b++) {
                    int row = (b * len + len - 1) * vocab;
                    int best = 0;
                    for (int v = 1; v < vocab; v++) {
                        best = logits[row + v] > logits[row + best] ? v : best;
                    }
                    seqs[b][len] = best;
                }
            }
        }
        List<String> answers = new ArrayList<>();
        for (int[] s : seqs) {
            StringBuilder a = new StringBuilder();
            for (int t = PROMPT; t < LENGTH; t++) {
                a.append(VOCAB.charAt(s[t]));
            }
            answers.add(a.toString());
        }
        return answers;
    }

    /** Exact-match accuracy: the share of words whose whole answer and final '.' come out right. */
    static double accuracy(LlamaModel model, Kind kind, List<String> words) {
        List<String> answers = complete(model, kind, words);
        int right = 0;
        for (int i = 0; i < words.size(); i++) {
            right += answers.get(i).equals(kind.answer(words.get(i)) + ".") ? 1 : 0;
        }
        return (double) right / words.size();
    }
}
