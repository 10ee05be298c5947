package cloud.dementia.db.store;

import java.util.ArrayList;
import java.util.List;

/**
 * The parts of PostgreSQL's lexer ({@code src/backend/parser/scan.l}) that decide what is code and what is not: string
 * constants ({@code '...'} with {@code ''}, {@code E'...'} with backslash escapes, {@code B'}/{@code X'}/{@code N'},
 * {@code U&'...'}), quoted identifiers ({@code "..."}, {@code U&"..."}), dollar-quoted strings whose tag follows the
 * identifier rules ({@code $tag$}, {@code $t1$}, {@code $$}), comments ({@code --} to the end of the line, and
 * {@code /* ... *}{@code /} that nest), identifiers (which may hold {@code $} after the first character, so
 * {@code a$1} is a name, not a parameter) and parameters ({@code $1}). It assumes {@code standard_conforming_strings}
 * is on, PostgreSQL's default since 9.1, which the service does not change.
 *
 * <p>{@link #code()} is the text with every literal, quoted identifier and comment blanked out, position for position,
 * so the words left are the statement's own keywords and names.
 */
final class SqlLexer {

    /** A {@code $n} parameter: where it starts, its length, and n (0 when n does not fit an int). */
    record Parameter(int start, int length, int number, String text) {
    }

    private final String sql;
    private final StringBuilder code;
    private final List<Parameter> parameters = new ArrayList<>();

    private SqlLexer(String sql) {
        this.sql = sql;
        this.code = new StringBuilder(sql.length());
    }

    static SqlLexer scan(String sql) {
        SqlLexer lexer = new SqlLexer(sql);
        lexer.run();
        return lexer;
    }

    /** The statement with literals, quoted identifiers and comments blanked: a string is {@code '} then spaces, a quoted identifier {@code x} then spaces. */
    String code() {
        return code.toString();
    }

    /** The {@code $n} parameters outside literals, identifiers and comments, in order. */
    List<Parameter> parameters() {
        return parameters;
    }

    private void run() {
        int n = sql.length();
        int i = 0;
        while (i < n) {
            char c = sql.charAt(i);
            char next = i + 1 < n ? sql.charAt(i + 1) : 0;
            if (c == '-' && next == '-') {
                int end = i;
                while (end < n && sql.charAt(end) != '\n' && sql.charAt(end) != '\r') {
                    end++;
                }
                blank(i, end, ' ');
                i = end;
            } else if (c == '/' && next == '*') {
                i = blockComment(i);
            } else if (c == '\'') {
                i = quoted(i, i + 1, '\'', false, '\'');
            } else if (c == '"') {
                i = quoted(i, i + 1, '"', false, 'x');
            } else if ((c == 'e' || c == 'E') && next == '\'') {
                i = quoted(i, i + 2, '\'', true, '\'');
            } else if ((c == 'b' || c == 'B' || c == 'x' || c == 'X' || c == 'n' || c == 'N') && next == '\'') {
                i = quoted(i, i + 2, '\'', false, '\'');
            } else if ((c == 'u' || c == 'U') && next == '&' && i + 2 < n && (sql.charAt(i + 2) == '\'' || sql.charAt(i + 2) == '"')) {
                char quote = sql.charAt(i + 2);
                i = quoted(i, i + 3, quote, false, quote == '"' ? 'x' : '\'');
            } else if (identStart(c)) {
                int end = i + 1;
                while (end < n && identCont(sql.charAt(end))) {
                    end++;
                }
                code.append(sql, i, end);
                i = end;
            } else if (c == '$' && Character.isDigit(next)) {
                int end = i + 1;
                while (end < n && Character.isDigit(sql.charAt(end))) {
                    end++;
                }
                String digits = sql.substring(i + 1, end);
                int number = digits.length() > 9 ? 0 : Integer.parseInt(digits);
                parameters.add(new Parameter(i, end - i, number, sql.substring(i, end)));
                code.append(sql, i, end);
                i = end;
            } else if (c == '$') {
                int tagEnd = dollarTagEnd(i);
                if (tagEnd < 0) {
                    code.append(c);
                    i++;
                } else {
                    String tag = sql.substring(i, tagEnd);
                    int close = sql.indexOf(tag, tagEnd);
                    int end = close < 0 ? n : close + tag.length();
                    blank(i, end, '\'');
                    i = end;
                }
            } else if (Character.isDigit(c)) {
                // a number, with what PostgreSQL reads as part of it (1e5, 0x1f, 1_000, 1.5)
                int end = i + 1;
                while (end < n && (Character.isLetterOrDigit(sql.charAt(end)) || sql.charAt(end) == '_' || sql.charAt(end) == '.')) {
                    end++;
                }
                code.append(sql, i, end);
                i = end;
            } else {
                code.append(c);
                i++;
            }
        }
    }

    /** Nested {@code /* *}{@code /} comments, as PostgreSQL reads them (unlike the SQL standard's other dialects). */
    private int blockComment(int start) {
        int n = sql.length();
        int depth = 0;
        int i = start;
        while (i < n) {
            if (sql.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (sql.startsWith("*/", i)) {
                depth--;
                i += 2;
                if (depth == 0) {
                    break;
                }
            } else {
                i++;
            }
        }
        blank(start, i, ' ');
        return i;
    }

    /**
     * A quoted string or identifier from {@code bodyStart} to its closing quote; a doubled quote stays inside, and in an
     * {@code E'...'} string so does any character after a backslash.
     */
    private int quoted(int start, int bodyStart, char quote, boolean backslashEscapes, char mark) {
        int n = sql.length();
        int j = bodyStart;
        while (j < n) {
            char c = sql.charAt(j);
            if (backslashEscapes && c == '\\') {
                j += 2;
                continue;
            }
            if (c == quote) {
                if (j + 1 < n && sql.charAt(j + 1) == quote) {
                    j += 2;
                    continue;
                }
                break;
            }
            j++;
        }
        int end = Math.min(n, j + 1);
        blank(start, end, mark);
        return end;
    }

    /** @return the end of a dollar-quote tag ({@code $}, then an identifier start and identifier characters but no {@code $}, then {@code $}) at i, or -1 */
    private int dollarTagEnd(int i) {
        int n = sql.length();
        int j = i + 1;
        if (j < n && sql.charAt(j) == '$') {
            return j + 1;
        }
        if (j >= n || !identStart(sql.charAt(j))) {
            return -1;
        }
        j++;
        while (j < n && identCont(sql.charAt(j)) && sql.charAt(j) != '$') {
            j++;
        }
        return j < n && sql.charAt(j) == '$' ? j + 1 : -1;
    }

    /** Blanks [start, end) with a first character that tells what was there, keeping every position. */
    private void blank(int start, int end, char first) {
        if (end <= start) {
            return;
        }
        code.append(first);
        for (int k = start + 1; k < end; k++) {
            code.append(' ');
        }
    }

    private static boolean identStart(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80;
    }

    private static boolean identCont(char c) {
        return identStart(c) || c >= '0' && c <= '9' || c == '$';
    }
}
