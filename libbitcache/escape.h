/* Text from records and requests made safe for where it goes out: JSON
 * strings (also inside HTML), and URL paths (links, cookie Path). */
#ifndef BITCACHE_ESCAPE_H
#define BITCACHE_ESCAPE_H

#include <stddef.h>

/* The body of a JSON string for src[0..len): '"' and '\' escaped; control
 * bytes, DEL, < > & and U+2028/U+2029 as \uXXXX (safe inside <script>
 * and HTML); a byte that is not part of valid UTF-8 becomes \ufffd, so any
 * JSON parser reads the result. dst needs room for 6 * len bytes; returns
 * the number written (no NUL). */
size_t bc_json_escape(char *dst, const unsigned char *src, size_t len);

/* src[0..len) as a URL path: bytes other than letters, digits, "-._~/"
 * and "!$&()*+=:@" become %XX, so the result holds no space, quote, ';',
 * ',', '%' or control byte; a second '/' at the start becomes %2F, so
 * the result never starts with "//" (a protocol-relative link to another
 * host). dst needs room for 3 * len bytes; returns the number written (no
 * NUL). */
size_t bc_path_escape(char *dst, const unsigned char *src, size_t len);

/* src[0..len) for a log line: printable ASCII as it is but '"' and '\',
 * which become \x22 and \x5c, like every other byte (control bytes, so
 * that no line break or terminal escape from a request, Redis or the node
 * can forge a log line). dst needs room for 4 * len bytes; returns the
 * number written (no NUL). */
size_t bc_log_escape(char *dst, const unsigned char *src, size_t len);

/* The same for a fixed buffer: src[0..len) escaped as above, cut with
 * "..." where it would not fit in buf[0..cap), NUL-terminated; src NULL
 * reads as "". For servers' words logged where no pool is at hand
 * (connection errors) and the host's words on a terminal. Reads at most
 * cap bytes past the cut, whatever len is. A cap under 4 gives "";
 * returns buf. */
const char *bc_log_text(char *buf, size_t cap, const void *src, size_t len);

/* The length of the first word of a server's error ("WRONGPASS",
 * "NOAUTH", "ERR"). What follows may quote the command's arguments: a
 * server that does not know AUTH (renamed, a proxy, a rogue one) repeats
 * the password in its "unknown command" error, so an AUTH reply is
 * logged by its first word only. */
size_t bc_error_word_len(const char *s, size_t len);

#endif
