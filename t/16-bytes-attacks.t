#!/usr/bin/perl
# Attacks on the byte accounting (docs/protocol.md, "What a request draws")
# through real nginx and redis-server, by a buyer who holds a token and
# wants more than max_downloads x the file: racing first draws of a file,
# error_page and gzip_static turning a drawn response into more than was
# drawn. t/15-bytes.t covers the usual flows.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use BcTest;

my $t = BcTest->new;
$t->start_redis;
my $a = $t->make_file('album/a.bin', 256 * 1024);
my $b = $t->make_file('album/b.bin', 100_000);
my $txt = 'hello bitcache ' x 20000;
$t->write_file('html/gz/text.txt', $txt);
system('gzip', '-k', '-9', $t->dir . '/html/gz/text.txt') == 0 or die 'gzip';
my $gz = do { local $/; open my $f, '<', $t->dir . '/html/gz/text.txt.gz' or die; binmode $f; <$f> };
$t->start_nginx(<<'CONF', workers => 2);
    bitcache_redis %%REDIS%% timeout=2s;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        bitcache_secret %%DIR%%/secret;
        location /album/ {
            bitcache on;
            bitcache_product album;
            error_page 404 /album/a.bin;
        }
        location /gz/ { bitcache on; bitcache_product gz; gzip_static on; }
    }
CONF

sub parallel {
    my ($n, $path, $tok) = @_;
    my $dir = $t->dir . "/par" . int(rand(1e9));
    mkdir $dir;
    my @args = ('curl', '-s', '--parallel', '--parallel-immediate', '--parallel-max', $n);
    push @args, '-o', "$dir/$_", '-w', '%{http_code} %{filename_effective}\n',
        $t->url("$path?bitcache_token=$tok") for 1 .. $n;
    open my $p, '-|', @args or die;
    my %code = map { /^(\d+) (.*)$/ ? ($2 => $1) : () } <$p>;
    close $p;
    return \%code;
}

sub slurp { my ($f) = @_; open my $h, '<', $f or return ''; binmode $h; local $/; <$h> // '' }

# --- racing first draws of a file (its counter not made at mint) -------------
# Each racing request's HINCRBY made the counter below LIVE; the script of the
# first reset it to LIVE + its own bytes, forgetting the others': all 20 passed.
my $tok = $t->grant('album', '--uses', 1);
my $code = parallel(20, '/album/a.bin', $tok);
my @ok = grep { $code->{$_} eq '200' } keys %$code;
is(scalar @ok, 1, '20 racing first GETs of a file of a product, 1 download: one 200');
is(scalar(grep { $code->{$_} eq '402' } keys %$code), 19, 'the other 19: 402');
is(scalar(grep { slurp($_) eq $a } @ok), 1, 'one whole file delivered');
is($t->drawn_settled($tok, 'a.bin'), length $a, 'and drawn');

$tok = $t->grant('album', '--uses', 3);
$code = parallel(20, '/album/b.bin', $tok);
is(scalar(grep { $code->{$_} eq '200' && slurp($_) eq $b } keys %$code), 3,
   '3 downloads: three of 20 racing first GETs get the file');
is($t->drawn_settled($tok, 'b.bin'), 3 * length $b, 'three drawn');

# --- error_page: a response with the error's status carrying a paid file -----
# error_page 404 /album/a.bin (no "="): the file went out as a 404, and a
# response that was not 200/206 counted nothing: all of it was given back.
$tok = $t->grant('album', '--uses', 1);
my $files = 0;
for (1 .. 3) {
    my $r = $t->get('/album/missing', Cookie => "bitcache_token=$tok");
    $files++ if $r->{content} eq $a;
}
is($files, 1, 'error_page 404 to a paid file, 1 download: the file once in 3');
is($t->drawn_settled($tok, 'a.bin'), length $a, 'drawn');

# --- gzip_static: file.gz is not the file's bytes -------------------------------
# a range of the original's length covered the whole (smaller) .gz: the
# compressed file for 639 bytes of a 300000-byte allowance, hundreds of times
$tok = $t->grant('gz', '--uses', 1);
my $gzlen = length $gz;
for (1 .. 3) {
    my $r = $t->get("/gz/text.txt?bitcache_token=$tok", 'Accept-Encoding' => 'gzip',
                    Range => 'bytes=0-' . ($gzlen - 1));
    isnt($r->{content}, $gz, "gzip_static, a range the size of the .gz: not the .gz ($r->{status})");
}
is($t->drawn_settled($tok), 0, 'nothing stays drawn');
my $r = $t->get("/gz/text.txt?bitcache_token=$tok", 'Accept-Encoding' => 'gzip');
is($r->{status}, 200, 'gzip_static, the whole file: 200');
is($r->{content}, $gz, 'the .gz');
is($t->drawn_settled($tok), length $txt, 'drew the whole file');
is($t->get("/gz/text.txt?bitcache_token=$tok", 'Accept-Encoding' => 'gzip')->{status}, 402,
   'then 402');

$t->stop_nginx;
$t->check_log_clean;
done_testing;
