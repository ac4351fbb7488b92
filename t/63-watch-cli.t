#!/usr/bin/perl
# bitcache keygen (the watcher's BIP340 key: mode 0600, never overwritten,
# public key printed for bitcache_watcher_key and checked against an
# independent implementation) and bitcache watch's refusals of bad options.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use BcTest;

my $t = BcTest->new;
my $key = $t->dir . '/w.key';
my ($rc, $out, $err) = $t->cli('keygen', $key);
is($rc, 0, 'keygen: exit 0') or diag $err;
like($out, qr/^[0-9a-f]{64}\n$/, 'prints an x-only public key');
is((stat $key)[2] & 07777, 0600, 'the key file is 0600');
open my $fh, '<', $key or die;
chomp(my $sk = <$fh>);
close $fh;
like($sk, qr/^[0-9a-f]{64}$/, 'the file holds 64 hex digits');
chomp(my $pub = `node t/node/attest.js pubkey $sk`);
is($out, "$pub\n", 'the public key is the secret key\'s (attest.js, @noble)');
unlike($out . $err, qr/$sk/, 'the secret key is not printed');
my $before = -s $key;
($rc, undef, $err) = $t->cli('keygen', $key);
is($rc, 1, 'an existing file: exit 1');
like($err, qr/exists; not overwriting/, 'says so');
is(-s $key, $before, 'the key is unchanged');
my ($rc2, $out2) = $t->cli('keygen', $t->dir . '/w2.key');
isnt($out2, $out, 'a second key differs');

my $wkey = $t->watcher_keyfile;
my $secret = $t->dir . '/secret';
my @base = ('--rpc', 'http://127.0.0.1:1/', '--rpc-user', 'u', '--rpc-password', 'p',
            '--redis', '127.0.0.1:1', '--secret', $secret, '--key', $wkey);
$t->write_file('rpc.pw', "p\n", 0644);
$t->write_file('rpc-ok.pw', "p\n", 0640);
$t->write_file('open.key', "$BcTest::WATCHER_SECKEY\n", 0644);
$t->write_file('bad.key', "xyz\n", 0600);
$t->cli_refuses(
    [['keygen'], qr/usage: bitcache keygen KEYFILE/],
    [['watch'], qr/--rpc, --redis, --key and --secret are required/],
    [['watch', @base[0 .. 9]], qr/--rpc, --redis, --key and --secret are required/],
    [['watch', @base, '--network', 'moon'], qr/--network: "moon" is not/],
    [['watch', @base, '--poll', '5'], qr/--poll: "5" is not 10\.\.600000 ms/],
    [['watch', @base, '--poll', '1000', '--lease', '1500'], qr/--lease \(1500 ms\) must be at least twice --poll/],
    [['watch', @base, '--rpc-cookie', '/x'], qr/exclude each other/],
    [['watch', '--rpc', 'ftp://x/', '--redis', '127.0.0.1:1', '--key', $wkey, '--secret', $secret],
     qr/not an http/],
    [['watch', '--rpc', 'http://x/', '--rpc-user', 'u', '--redis', '127.0.0.1:1', '--key', $wkey,
      '--secret', $secret], qr/go together/],
    [['watch', @base[0 .. 9], '--key', $t->dir . '/open.key'], qr/only its owner can read/],
    [['watch', @base[0 .. 9], '--key', $t->dir . '/bad.key'], qr/not a secret key/],
    [['watch', @base[0 .. 9], '--key', $t->dir . '/none.key'], qr/No such file/],
    [['watch', @base, '--rpc-password-file', $t->dir . '/rpc-ok.pw'],
     qr/one of --rpc-password and --rpc-password-file/],
    [['watch', @base[0 .. 3], @base[6 .. 11], '--rpc-password-file', $t->dir . '/rpc.pw'],
     qr/--rpc-password-file: .*others cannot read/],
    [['watch', @base[0 .. 3], @base[6 .. 11], '--rpc-password-file', $t->dir . '/no.pw'],
     qr/--rpc-password-file: cannot open/],
    [['watch', @base, '--redis-password-file', $t->dir . '/rpc.pw'],
     qr/--redis-password-file: .*others cannot read/],
    [['watch', @base, '--redis-password', 'x', '--redis-password-file', $t->dir . '/rpc-ok.pw'],
     qr/one of --redis-password and --redis-password-file/],
    [['watch', @base, 'extra'], qr/unexpected argument "extra"/],
);
done_testing;
