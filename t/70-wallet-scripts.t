#!/usr/bin/perl
# The wallet's Lua scripts (libbitcache/wallet_record.h: BUY, CREDIT, SET)
# on a real redis-server: compare-and-set on the state's mac, each answer
# ("changed", "frozen", "key", "replay", "owned", "again", "done",
# "unknown", "exists"), all or nothing when a key has the wrong type, and
# racing buyers that never spend more than the balance.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use BcTest;

my $TOOL = "$BcTest::TOOLS/wallet_tool";
-x $TOOL or BAIL_OUT("$TOOL missing: make unit");
my %script = map { $_ => scalar `$TOOL script $_` } qw(buy credit set);

my $t = BcTest->new;
$t->start_redis;

my $wid = 'dc36a304ef68404dbf86dbc57c2db7a3';
my ($WAL, $LED, $OWN, $TOP) = map { "$_$wid" } qw(wal: wled: wown: wtop:);
my $n = 0;
sub mac { sprintf '%064x', ++$n }          # the scripts compare macs, not check them

# the 16 strings of a state (bc_wallet_state_argv order)
sub state {
    my (%s) = @_;
    return (v => 1, net => 3, created => 1767225600, seq => $s{seq}, bal => $s{bal},
            head => $s{head} // ('00' x 32), auto => $s{auto} // 0, mac => $s{mac});
}
sub hgetall { my %h = @{ $t->redis('HGETALL', $_[0]) }; \%h }
sub ev { my ($s, $keys, @a) = @_; $t->redis('EVAL', $script{$s}, scalar @$keys, @$keys, @a) }

sub set { my ($read, %s) = @_; ev('set', [$WAL, $LED], $read, state(%s)) }
sub buy {
    my (%o) = @_;
    my $p = $o{purchase} // sprintf('%032x', $n);
    my $key = $o{key} // '';
    return ev('buy', [$WAL, $LED, $OWN, "tok:$p", "widem:$wid:" . ($key eq '' ? '-' : $key)],
              $o{read}, state(%{ $o{new} }), $o{entry} // "entry $o{new}{seq}",
              $o{product}, $o{owned} // "own $p", $o{uses} // 3, $o{expires} // time + 3600,
              $key, $o{again} ? 'again' : '');
}

# --- SET: creation and settings -----------------------------------------
my $m0 = mac();
is_deeply(set('', seq => 0, bal => 0, mac => $m0), ['ok'], 'SET "": creates');
is(hgetall($WAL)->{mac}, $m0, 'the state is written');
is_deeply(set('', seq => 0, bal => 0, mac => mac()), ['exists'], 'SET "" again: exists');
is(hgetall($WAL)->{mac}, $m0, 'and nothing changed');
my $r = set(mac(), seq => 0, bal => 0, auto => 500, mac => mac());
is($r->[0], 'changed', 'SET with a mac that moved: changed');
is({ @{ $r->[1] } }->{mac}, $m0, 'with the current state');
my $m1 = mac();
is_deeply(set($m0, seq => 0, bal => 0, auto => 500, mac => $m1), ['ok'], 'SET with the mac read');
is(hgetall($WAL)->{auto}, 500, 'max_auto_price set');

# --- CREDIT ------------------------------------------------------------------
my $inv = 'f00102030405060708090a0b0c0d0e0f';
sub credit {
    my ($read, %s) = @_;
    return ev('credit', [$WAL, $LED, $TOP], $read, state(%s), "credit $s{seq}", $inv);
}
is_deeply(credit($m1, seq => 1, bal => 50000, auto => 500, mac => mac()), ['unknown'],
          'CREDIT of an invoice that is no top-up of this wallet: unknown');
is($t->redis('LLEN', $LED), 0, 'nothing appended');
$t->redis('HSET', $TOP, $inv, '0');
$r = credit(mac(), seq => 1, bal => 50000, auto => 500, mac => mac());
is($r->[0], 'changed', 'CREDIT from a state that moved: changed');
is($t->redis('HGET', $TOP, $inv), '0', 'still pending');
my $m2 = mac();
is_deeply(credit($m1, seq => 1, bal => 50000, auto => 500, mac => $m2), ['ok'], 'CREDIT: ok');
is_deeply([hgetall($WAL)->{bal}, $t->redis('LRANGE', $LED, 0, -1), $t->redis('HGET', $TOP, $inv)],
          [50000, ['credit 1'], '1'], 'balance, ledger and wtop written');
is_deeply(credit($m2, seq => 2, bal => 100000, auto => 500, mac => mac()), ['done', '1'],
          'CREDIT again: done, with the seq; nothing written');
is(hgetall($WAL)->{bal}, 50000, 'credited once');

# --- BUY ------------------------------------------------------------------------
my $m3 = mac();
$r = buy(read => $m2, new => { seq => 2, bal => 40000, mac => $m3 }, product => '/a.pdf',
         purchase => 'aa' x 16, key => 'k1', expires => time + 600);
is_deeply($r, ['ok'], 'BUY: ok');
my $st = hgetall($WAL);
is_deeply([@$st{qw(seq bal mac)}], [2, 40000, $m3], 'the new state');
is_deeply($t->redis('LRANGE', $LED, 0, -1), ['credit 1', 'entry 2'], 'the debit appended');
is($t->redis('HGET', $OWN, '/a.pdf'), 'own ' . ('aa' x 16), 'the ownership set');
my $tok = hgetall('tok:' . ('aa' x 16));
is_deeply([@$tok{qw(uses product b:/a.pdf)}], [3, '/a.pdf', '1125899906842624'],
          'the token record, as BC_SCRIPT_TOKEN_CREATE makes it');
my $ttl = $t->redis('TTL', 'tok:' . ('aa' x 16));
ok($ttl > 500 && $ttl <= 600, "the token record expires with the token ($ttl s)");
is($t->redis('GET', "widem:$wid:k1"), '/a.pdf', 'the idempotency key remembers the product');
$ttl = $t->redis('TTL', "widem:$wid:k1");
ok($ttl > 86000 && $ttl <= 86400, "for a day ($ttl s)");

my @snap = (hgetall($WAL), $t->redis('LLEN', $LED), hgetall($OWN));
sub unchanged {
    my ($what) = @_;
    is_deeply([hgetall($WAL), $t->redis('LLEN', $LED), hgetall($OWN)], \@snap,
              "$what: nothing written");
}

is_deeply(buy(read => $m3, new => { seq => 3, bal => 30000, mac => mac() }, product => '/a.pdf',
              key => 'k1'), ['replay'], 'the same key, the same product: replay');
unchanged('replay');
is_deeply(buy(read => $m3, new => { seq => 3, bal => 30000, mac => mac() }, product => '/b.pdf',
              key => 'k1'), ['key', '/a.pdf'], 'the same key, another product: key');
unchanged('key');
is_deeply(buy(read => $m3, new => { seq => 3, bal => 30000, mac => mac() }, product => '/a.pdf'),
          ['owned', 'own ' . ('aa' x 16)], 'an owned product: owned, with its value');
unchanged('owned');
$r = buy(read => mac(), new => { seq => 3, bal => 30000, mac => mac() }, product => '/b.pdf');
is($r->[0], 'changed', 'a state that moved: changed');
is({ @{ $r->[1] } }->{mac}, $m3, 'with the current state');
ok(!defined $r->[2], 'and no ownership of /b.pdf');
unchanged('changed');
$r = buy(read => mac(), new => { seq => 3, bal => 30000, mac => mac() }, product => '/a.pdf',
         again => 1);
is_deeply([$r->[0], $r->[2]], ['changed', 'own ' . ('aa' x 16)],
          'again, from a state that moved: changed, with the ownership');
unchanged('changed again');
ok(!$t->redis('EXISTS', "widem:$wid:-"), 'no key: no widem record');

my $m4 = mac();
is_deeply(buy(read => $m3, new => { seq => 3, bal => 30000, mac => $m4 }, product => '/a.pdf',
              purchase => 'bb' x 16, again => 1), ['ok'], 'again: bought anew');
is($t->redis('HGET', $OWN, '/a.pdf'), 'own ' . ('bb' x 16), 'the new purchase owns it');
is($t->redis('LLEN', $LED), 3, 'a third entry');

# a planted token record under the new id is not carried over
$t->redis('HSET', 'tok:' . ('cc' x 16), 'b:/c.pdf', '1125899906842624000', 'revoked', 1);
my $m5 = mac();
is_deeply(buy(read => $m4, new => { seq => 4, bal => 20000, mac => $m5 }, product => '/c.pdf',
              purchase => 'cc' x 16), ['ok'], 'BUY over a planted token record');
$tok = hgetall('tok:' . ('cc' x 16));
ok(!exists $tok->{revoked} && $tok->{'b:/c.pdf'} eq '1125899906842624', 'a fresh record');

# frozen
$t->redis('HSET', $WAL, 'frozen', 'audit: entry 2 does not verify');
@snap = (hgetall($WAL), $t->redis('LLEN', $LED), hgetall($OWN));
is_deeply(buy(read => $m5, new => { seq => 5, bal => 10000, mac => mac() }, product => '/d.pdf'),
          ['frozen', 'audit: entry 2 does not verify'], 'a frozen wallet: frozen');
unchanged('frozen');
$t->redis('HSET', $TOP, $inv . '1', '0');
is_deeply(ev('credit', [$WAL, $LED, $TOP], $m5, state(seq => 5, bal => 70000, mac => mac()),
             'credit 5', $inv . '1'), ['ok'], 'a frozen wallet is still credited');
ok(exists hgetall($WAL)->{frozen}, 'and stays frozen');
$t->redis('HDEL', $WAL, 'frozen');

# all or nothing: a ledger of the wrong type fails the script before any write
my $cur = hgetall($WAL)->{mac};
$t->redis('RENAME', $LED, "$LED.saved");
$t->redis('SET', $LED, 'not a list');
@snap = (hgetall($WAL), 0, hgetall($OWN));
ok(!eval { buy(read => $cur, new => { seq => 6, bal => 0, mac => mac() }, product => '/e.pdf',
               purchase => 'ee' x 16, key => 'k9'); 1 }, 'BUY on a ledger that is no list: an error');
is_deeply([hgetall($WAL), 0, hgetall($OWN)], \@snap, 'nothing written');
ok(!$t->redis('EXISTS', 'tok:' . ('ee' x 16)) && !$t->redis('EXISTS', "widem:$wid:k9"),
   'no token record, no key');
$t->redis('HSET', $TOP, $inv . '2', '0');
ok(!eval { ev('credit', [$WAL, $LED, $TOP], $cur, state(seq => 6, bal => 0, mac => mac()),
              'credit 6', $inv . '2'); 1 }, 'CREDIT on a ledger that is no list: an error');
is_deeply([hgetall($WAL)->{mac}, $t->redis('HGET', $TOP, $inv . '2')], [$cur, '0'],
          'nothing written');
$t->redis('DEL', $LED);
$t->redis('RENAME', "$LED.saved", $LED);

# no wallet at all
$t->redis('RENAME', $WAL, "$WAL.saved");
$r = buy(read => $cur, new => { seq => 6, bal => 0, mac => mac() }, product => '/f.pdf');
is_deeply([$r->[0], scalar @{ $r->[1] }], ['changed', 0], 'no state: changed, with nothing');
$t->redis('RENAME', "$WAL.saved", $WAL);

# --- a state written back over a longer ledger: "ledger", nothing written ---
{
    my $cur = hgetall($WAL);
    my $len = $t->redis('LLEN', $LED);
    my $old = $cur->{seq} - 1;              # as if the state of entry seq - 1 came back
    @snap = (hgetall($WAL), $t->redis('LLEN', $LED), hgetall($OWN));
    is_deeply(buy(read => $cur->{mac}, new => { seq => $old + 1, bal => 0, mac => mac() },
                  product => '/g.pdf', purchase => 'ab' x 16, key => 'k7'),
              ['ledger', $len], "BUY from a state whose seq is not the ledger's length: ledger, $len");
    unchanged('ledger (BUY)');
    ok(!$t->redis('EXISTS', 'tok:' . ('ab' x 16)) && !$t->redis('EXISTS', "widem:$wid:k7"),
       '... no token record, no key');
    $t->redis('HSET', $TOP, $inv . '3', '0');
    is_deeply(ev('credit', [$WAL, $LED, $TOP], $cur->{mac},
                 state(seq => $old + 1, bal => 0, mac => mac()), 'credit x', $inv . '3'),
              ['ledger', $len], 'CREDIT likewise: ledger');
    is($t->redis('HGET', $TOP, $inv . '3'), '0', '... the top-up still pending');
    is_deeply(set($cur->{mac}, seq => $old, bal => 0, auto => 7, mac => mac()), ['ledger', $len],
              'SET likewise: ledger');
    unchanged('ledger (SET)');
}

# --- racing buyers: 30 of them, a balance for 10 ---------------------------------
# Each one does what the module does: read the state, stop if the balance is
# too low, else write a new one by compare-and-set, and on "changed" start
# again from the state the script answered.
my $price = 1000;
my $mr = mac();
$t->redis('DEL', $LED, $OWN);
is_deeply(set($t->redis('HGET', $WAL, 'mac'), seq => 0, bal => 10 * $price, mac => $mr), ['ok'],
          'a fresh balance for ten purchases');
my @kids;
for my $k (1 .. 30) {
    my $pid = fork // die;
    if (!$pid) {
        my $st = hgetall($WAL);
        my ($tries, $res) = (0, 'busy');
        while ($tries++ < 200) {
            if ($st->{bal} < $price) { $res = 'low'; last }
            my $r = buy(read => $st->{mac}, product => "/race/$k", purchase => sprintf('%032x', 1000 + $k),
                        new => { seq => $st->{seq} + 1, bal => $st->{bal} - $price,
                                 mac => sprintf('%064x', $$ * 1000 + $tries) },
                        entry => "debit $k from seq $st->{seq}");
            if ($r->[0] eq 'ok') { $res = 'ok'; last }
            $st = { @{ $r->[1] } };
        }
        open my $fh, '>', $t->dir . "/race.$k" or die;
        print $fh $res;
        close $fh;
        exit 0;
    }
    push @kids, $pid;
}
waitpid $_, 0 for @kids;
my %res;
for my $k (1 .. 30) {
    open my $fh, '<', $t->dir . "/race.$k" or die;
    $res{ scalar <$fh> }++;
}
is($res{ok}, 10, 'ten bought');
is($res{low}, 20, 'twenty found the balance too low');
$st = hgetall($WAL);
is_deeply([@$st{qw(seq bal)}], [10, 0], 'the balance is 0 after ten entries, never below');
my @led = @{ $t->redis('LRANGE', $LED, 0, -1) };
is(scalar @led, 10, 'ten ledger entries');
is_deeply([map { /from seq (\d+)/ ? $1 : -1 } @led], [0 .. 9],
          'each written from the state before it: no two from the same one');
is(scalar keys %{ hgetall($OWN) }, 10, 'ten products owned');

done_testing;
