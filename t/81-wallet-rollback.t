#!/usr/bin/perl
# A Redis writer who saved an older, validly MAC'd wallet state writes it
# back after purchases, so that the balance they spent comes back
# (docs/security.md). The scripts refuse a state whose seq is not the
# ledger's length ({"ledger", n}); nginx keeps the highest seq seen of
# each wallet in shared memory (both workers, across a reload), which also
# refuses the state written back with the ledger trimmed to match. After a
# restart the marks are gone: what remains (documented).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use BcTest;

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x "$BcTest::TOOLS/wallet_fixture";

my $t = BcTest->new;
$t->start_redis;
$t->make_file("files/$_.bin", 2000) for qw(a b c d e f g);
my $http = $t->wallet_http('location /files/ { bitcache on; }', price => 100);
$t->start_nginx($http, workers => 2);

my $w = $t->wallet_open;
my ($WAL, $LED) = ("bitcache:wal:$w->{wallet}", "bitcache:wled:$w->{wallet}");
$t->wallet_credit($w->{wallet}, 1000);

sub buy {
    my ($f) = @_;
    return $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $t->offer_of("/files/$f.bin") });
}
sub state_now { return { @{ $t->redis('HGETALL', $WAL) } } }
sub put_state { my ($s) = @_; $t->redis('DEL', $WAL); $t->redis('HSET', $WAL, %$s) }
sub ledger_now { return @{ $t->redis('LRANGE', $LED, 0, -1) } }
sub put_ledger { $t->redis('DEL', $LED); $t->redis('RPUSH', $LED, @_) if @_ }
sub log_count { my ($re) = @_; scalar grep { /$re/ } split /\n/, $t->error_log }

is($t->wallet_balance($w->{code}), 1000, 'credited 1000 (read by the module: seq 1 seen)');
my %old = %{ state_now() };
my @old_ledger = ledger_now();
for my $f (qw(a b)) {
    my $r = buy($f);
    is($r->{status}, 200, "bought $f.bin") or diag $r->{content};
}
my %now = %{ state_now() };
my @now_ledger = ledger_now();
is($now{seq}, 3, 'seq 3, balance ' . $now{bal});

# ---- the state alone written back -----------------------------------------------
put_state(\%old);
my $r = buy('c');
is($r->{status}, 409, 'the state of seq 1 written back alone: 409');
is($r->{json}{error}, 'invalid_wallet', '... invalid_wallet');
is($t->redis('LLEN', $LED), 3, '... nothing appended');
is(state_now()->{bal}, $old{bal}, '... nothing written');
ok(log_count(qr/\[warn\].*wallet $w->{wallet}: its state was rolled back: seq 1 after seq 3/) >= 1,
   '... a warn line: rolled back');

# ---- the state and the ledger written back (LTRIM): the mark refuses ----------------
put_ledger(@old_ledger);
my @st = map { buy($_)->{status} } qw(c d c d c d);
is_deeply(\@st, [(409) x 6], 'state and ledger of seq 1 written back: 409 from both workers, six times');
is($t->wallet_req('GET', '/wallet', $w->{code})->{status}, 409, '... the wallet page refuses it too');
is($t->redis('LLEN', $LED), 1, '... nothing appended');

# ---- a reload keeps the marks -------------------------------------------------------
open my $fh, '<', $t->dir . '/logs/nginx.pid' or die;
chomp(my $master = <$fh>);
close $fh;
kill 'HUP', $master;
sleep 1.5;
@st = map { buy($_)->{status} } qw(c d c d);
is_deeply(\@st, [(409) x 4], 'after nginx -s reload: still refused, from both workers');

# ---- the real state back: it buys again ---------------------------------------------
put_state(\%now);
put_ledger(@now_ledger);
$r = buy('c');
is($r->{status}, 200, 'the real state back: bought c.bin') or diag $r->{content};
is($r->{json}{balance_sats}, $now{bal} - 100, '... from the real balance');
%now = %{ state_now() };
@now_ledger = ledger_now();

# ---- after a restart the marks are gone -----------------------------------------------
$t->stop_nginx;
$t->start_nginx($http, workers => 2);
my $before = log_count(qr/its state does not match its ledger \(rolled back\?\)/);
put_state(\%old);
$r = buy('d');
is($r->{status}, 409, 'after a restart, the state alone written back: 409 (the script checks the ledger)');
is($t->redis('LLEN', $LED), 4, '... nothing appended');
is(log_count(qr/\[warn\].*wallet $w->{wallet}: its state does not match its ledger \(rolled back\?\)/),
   $before + 1, '... a warn line: does not match its ledger');
put_ledger(@old_ledger);
$r = buy('d');
is($r->{status}, 200, 'after a restart, state and ledger written back: believed again (what remains, documented)');
is($r->{json}{balance_sats}, $old{bal} - 100, '... the spent balance back');

# and from then the mark holds again
put_state(\%old);
put_ledger(@old_ledger);
is(buy('e')->{status}, 409, 'once seen, the newer state protects again: 409');

$t->check_log_clean;
done_testing;
