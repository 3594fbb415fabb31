"""`DistributedSampler` against index lists recorded from PyTorch 2.13 (no PyTorch needed): every
rank's indices for a grid of dataset sizes (including fewer items than replicas), replica counts,
seeds, epochs, shuffle and drop_last; PyTorch's errors; use as a `DataLoader` sampler."""

import sys
import types

import pytest
import tapegrad as tg
from tapegrad.utils.data import DataLoader, Sampler, distributed
from tapegrad.utils.data.distributed import DistributedSampler

# "len replicas drop_last shuffle seed epoch indices": the indices are every rank's list, rank 0's
# first, one base-36 digit per index ("-" when empty); each rank has len(indices) / replicas.
GOLDEN = """
0 1 0 0 0 0 -
0 1 0 1 0 0 -
0 1 0 1 7 3 -
0 1 1 0 0 0 -
0 1 1 1 0 0 -
0 1 1 1 7 3 -
0 2 0 0 0 0 -
0 2 0 1 0 0 -
0 2 0 1 7 3 -
0 2 1 0 0 0 -
0 2 1 1 0 0 -
0 2 1 1 7 3 -
0 3 0 0 0 0 -
0 3 0 1 0 0 -
0 3 0 1 7 3 -
0 3 1 0 0 0 -
0 3 1 1 0 0 -
0 3 1 1 7 3 -
0 4 0 0 0 0 -
0 4 0 1 0 0 -
0 4 0 1 7 3 -
0 4 1 0 0 0 -
0 4 1 1 0 0 -
0 4 1 1 7 3 -
0 8 0 0 0 0 -
0 8 0 1 0 0 -
0 8 0 1 7 3 -
0 8 1 0 0 0 -
0 8 1 1 0 0 -
0 8 1 1 7 3 -
1 1 0 0 0 0 0
1 1 0 1 0 0 0
1 1 0 1 7 3 0
1 1 1 0 0 0 0
1 1 1 1 0 0 0
1 1 1 1 7 3 0
1 2 0 0 0 0 00
1 2 0 1 0 0 00
1 2 0 1 7 3 00
1 2 1 0 0 0 -
1 2 1 1 0 0 -
1 2 1 1 7 3 -
1 3 0 0 0 0 000
1 3 0 1 0 0 000
1 3 0 1 7 3 000
1 3 1 0 0 0 -
1 3 1 1 0 0 -
1 3 1 1 7 3 -
1 4 0 0 0 0 0000
1 4 0 1 0 0 0000
1 4 0 1 7 3 0000
1 4 1 0 0 0 -
1 4 1 1 0 0 -
1 4 1 1 7 3 -
1 8 0 0 0 0 00000000
1 8 0 1 0 0 00000000
1 8 0 1 7 3 00000000
1 8 1 0 0 0 -
1 8 1 1 0 0 -
1 8 1 1 7 3 -
3 1 0 0 0 0 012
3 1 0 1 0 0 201
3 1 0 1 7 3 201
3 1 1 0 0 0 012
3 1 1 1 0 0 201
3 1 1 1 7 3 201
3 2 0 0 0 0 0210
3 2 0 1 0 0 2102
3 2 0 1 7 3 2102
3 2 1 0 0 0 01
3 2 1 1 0 0 20
3 2 1 1 7 3 20
3 3 0 0 0 0 012
3 3 0 1 0 0 201
3 3 0 1 7 3 201
3 3 1 0 0 0 012
3 3 1 1 0 0 201
3 3 1 1 7 3 201
3 4 0 0 0 0 0120
3 4 0 1 0 0 2012
3 4 0 1 7 3 2012
3 4 1 0 0 0 -
3 4 1 1 0 0 -
3 4 1 1 7 3 -
3 8 0 0 0 0 01201201
3 8 0 1 0 0 20120120
3 8 0 1 7 3 20120120
3 8 1 0 0 0 -
3 8 1 1 0 0 -
3 8 1 1 7 3 -
5 1 0 0 0 0 01234
5 1 0 1 0 0 40132
5 1 0 1 7 3 20143
5 1 1 0 0 0 01234
5 1 1 1 0 0 40132
5 1 1 1 7 3 20143
5 2 0 0 0 0 024130
5 2 0 1 0 0 412034
5 2 0 1 7 3 213042
5 2 1 0 0 0 0213
5 2 1 1 0 0 4103
5 2 1 1 7 3 2104
5 3 0 0 0 0 031420
5 3 0 1 0 0 430214
5 3 0 1 7 3 240312
5 3 1 0 0 0 012
5 3 1 1 0 0 401
5 3 1 1 7 3 201
5 4 0 0 0 0 04102132
5 4 0 1 0 0 42041031
5 4 0 1 7 3 23021041
5 4 1 0 0 0 0123
5 4 1 1 0 0 4013
5 4 1 1 7 3 2014
5 8 0 0 0 0 01234012
5 8 0 1 0 0 40132401
5 8 0 1 7 3 20143201
5 8 1 0 0 0 -
5 8 1 1 0 0 -
5 8 1 1 7 3 -
10 1 0 0 0 0 0123456789
10 1 0 1 0 0 4175390862
10 1 0 1 0 1 5612089374
10 1 0 1 7 3 7461359820
10 1 0 1 -2 5 6037851924
10 1 1 0 0 0 0123456789
10 1 1 1 0 0 4175390862
10 1 1 1 0 1 5612089374
10 1 1 1 7 3 7461359820
10 1 1 1 -2 5 6037851924
10 2 0 0 0 0 0246813579
10 2 0 1 0 0 4730615982
10 2 0 1 0 1 5109762834
10 2 0 1 7 3 7639241580
10 2 0 1 -2 5 6381207594
10 2 1 0 0 0 0246813579
10 2 1 1 0 0 4730615982
10 2 1 1 0 1 5109762834
10 2 1 1 7 3 7639241580
10 2 1 1 -2 5 6381207594
10 3 0 0 0 0 036914702581
10 3 0 1 0 0 450213847961
10 3 0 1 0 1 529460351876
10 3 0 1 7 3 719043876524
10 3 0 1 -2 5 671408963520
10 3 1 0 0 0 036147258
10 3 1 1 0 0 450138796
10 3 1 1 0 1 529603187
10 3 1 1 7 3 719438652
10 3 1 1 -2 5 671089352
10 4 0 0 0 0 048159260371
10 4 0 1 0 0 436192704581
10 4 0 1 0 1 507684195236
10 4 0 1 7 3 732450697184
10 4 0 1 -2 5 682054316790
10 4 1 0 0 0 04152637
10 4 1 1 0 0 43197058
10 4 1 1 0 1 50681923
10 4 1 1 7 3 73456918
10 4 1 1 -2 5 68053179
10 8 0 0 0 0 0819203142536475
10 8 0 1 0 0 4612745137950389
10 8 0 1 0 1 5764152601829038
10 8 0 1 7 3 7240671436519385
10 8 0 1 -2 5 6204367083571895
10 8 1 0 0 0 01234567
10 8 1 1 0 0 41753908
10 8 1 1 0 1 56120893
10 8 1 1 7 3 74613598
10 8 1 1 -2 5 60378519
17 1 0 0 0 0 0123456789abcdefg
17 1 0 1 0 0 7ga518269c3db4fe0
17 1 0 1 0 1 2cbda608g9e437f51
17 1 0 1 7 3 1e047a59c2g6dfb38
17 1 0 1 -2 5 g91e456cf7032bda8
17 1 1 0 0 0 0123456789abcdefg
17 1 1 1 0 0 7ga518269c3db4fe0
17 1 1 1 0 1 2cbda608g9e437f51
17 1 1 1 7 3 1e047a59c2g6dfb38
17 1 1 1 -2 5 g91e456cf7032bda8
17 2 0 0 0 0 02468aceg13579bdf0
17 2 0 1 0 0 7a1293bf0g586cd4e7
17 2 0 1 0 1 2ba0ge3f1cd6894752
17 2 0 1 7 3 1075cgdb8e4a926f31
17 2 0 1 -2 5 g146f02d89e5c73bag
17 2 1 0 0 0 02468ace13579bdf
17 2 1 1 0 0 7a1293bfg586cd4e
17 2 1 1 0 1 2ba0ge3fcd689475
17 2 1 1 7 3 1075cgdbe4a926f3
17 2 1 1 -2 5 g146f02d9e5c73ba
17 3 0 0 0 0 0369cf147adg258be0
17 3 0 1 0 0 752cbeg16340a89df7
17 3 0 1 0 1 2d0935ca8e71b6g4f2
17 3 0 1 7 3 1452d3e79gf80ac6b1
17 3 0 1 -2 5 ge672a94c0b815f3dg
17 3 1 0 0 0 0369c147ad258be
17 3 1 1 0 0 752cbg1634a89df
17 3 1 1 0 1 2d093ca8e7b6g4f
17 3 1 1 7 3 1452de79gf0ac6b
17 3 1 1 -2 5 ge67294c0b15f3d
17 4 0 0 0 0 048cg159d026ae137bf2
17 4 0 1 0 0 719b0g8c47a23fg56dea
17 4 0 1 0 1 2ag31c6972b0efcd845b
17 4 0 1 7 3 17cd8ea2f105gbe49630
17 4 0 1 -2 5 g4f28957bg160d9ec3a1
17 4 1 0 0 0 048c159d26ae37bf
17 4 1 1 0 0 719bg8c4a23f56de
17 4 1 1 0 1 2ag3c697b0efd845
17 4 1 1 7 3 17cdea2f05gb4963
17 4 1 1 -2 5 g4f2957b160dec3a
17 8 0 0 0 0 08g1902a13b24c35d46e57f6
17 8 0 1 0 0 790gc7a3g5da1b58412f86e2
17 8 0 1 0 1 2g1c92becd4ba3d67a0f6850
17 8 0 1 7 3 1c8e210ge4607d4af75ba935
17 8 0 1 -2 5 gf897g109e3142e5b46d5ca6
17 8 1 0 0 0 08192a3b4c5d6e7f
17 8 1 1 0 0 79gca35d1b842f6e
17 8 1 1 0 1 2gc9bed4a3670f85
17 8 1 1 7 3 1ce20g467daf5b93
17 8 1 1 -2 5 gf9710e3425b6dca
33 1 0 0 0 0 0123456789abcdefghijklmnopqrstuvw
33 1 0 1 0 0 wgh3usv04cafr782jtd5ike9lqnopb6m1
33 1 0 1 7 3 wusaj1edt57mvn8krg4lqoi3620cfhp9b
33 1 1 0 0 0 0123456789abcdefghijklmnopqrstuvw
33 1 1 1 0 0 wgh3usv04cafr782jtd5ike9lqnopb6m1
33 1 1 1 7 3 wusaj1edt57mvn8krg4lqoi3620cfhp9b
33 2 0 0 0 0 02468acegikmoqsuw13579bdfhjlnprtv0
33 2 0 1 0 0 whuv4ar8jdielnp61g3s0cf72t5k9qobmw
33 2 0 1 7 3 wsjet7v8r4qi60fpbua1d5mnkglo32ch9w
33 2 1 0 0 0 02468acegikmoqsu13579bdfhjlnprtv
33 2 1 1 0 0 whuv4ar8jdielnp6g3s0cf72t5k9qobm
33 2 1 1 7 3 wsjet7v8r4qi60fpua1d5mnkglo32ch9
33 3 0 0 0 0 0369cfiloru147adgjmpsv258behknqtw
33 3 0 1 0 0 w3vcr2dklo6gu0a7j5eqpmhs4f8ti9nb1
33 3 0 1 7 3 wae5vk4o6cpujd7nrli2f9s1tm8gq30hb
33 3 1 0 0 0 0369cfiloru147adgjmpsv258behknqtw
33 3 1 1 0 0 w3vcr2dklo6gu0a7j5eqpmhs4f8ti9nb1
33 3 1 1 7 3 wae5vk4o6cpujd7nrli2f9s1tm8gq30hb
33 4 0 0 0 0 048cgkosw159dhlpt026aeimqu137bfjnrv2
33 4 0 1 0 0 wu4rjilp1gsc7tkqbwhva8den6g30f259omh
33 4 0 1 7 3 wjtvrq6fbu15ngo2hwse784i0puadmkl3c9s
33 4 1 0 0 0 048cgkos159dhlpt26aeimqu37bfjnrv
33 4 1 1 0 0 wu4rjilpgsc7tkqbhva8den630f259om
33 4 1 1 7 3 wjtvrq6fu15ngo2hse784i0padmkl3c9
33 8 0 0 0 0 08gow19hp02aiq13bjr24cks35dlt46emu57fnv6
33 8 0 1 0 0 w4jl1gctqwhadng3f5ohurip3s7kbuv8e6s029mv
33 8 0 1 7 3 wtr6bu5g2ws740uamlcsjvqfa1nohje8ip1dk39e
33 8 1 0 0 0 08go19hp2aiq3bjr4cks5dlt6emu7fnv
33 8 1 1 0 0 w4jlgctqhadn3f5ourips7kbv8e6029m
33 8 1 1 7 3 wtr6u5g2s740amlcjvqf1nohe8ipdk39
"""

# Rank 1 of 3 over range(100), seed 42, epochs 0, 1, 2: two decimal digits per index.
LONG = """
96462468139910183883947501665887512135378827564780367208905455779242
94895241599922630710199803054868473666206090782492127469178738185488
60312512069922275636299664010717445586260961658020898404496398717632
"""


def _cases():
    for line in GOLDEN.strip().splitlines():
        *key, digits = line.split()
        n, reps, drop, shuffle, seed, epoch = map(int, key)
        flat = [int(d, 36) for d in digits.strip("-")]
        per_rank = len(flat) // reps
        want = [flat[r * per_rank : (r + 1) * per_rank] for r in range(reps)]
        yield n, reps, bool(drop), bool(shuffle), seed, epoch, want


@pytest.mark.parametrize("engine", ["cpp", "numpy"])
def test_golden_grid(engine, monkeypatch):
    # The C++ generator engine is the default; the NumPy one is used when the extension is absent.
    monkeypatch.setattr(distributed, "Generator", lambda: tg.Generator(_impl=engine))
    cases = list(_cases())
    assert len(cases) == 250
    # Fewer items than replicas: padding repeats the list more than once.
    assert any(0 < n < reps and not drop for n, reps, drop, *_ in cases)
    for n, reps, drop, shuffle, seed, epoch, want in cases:
        for rank in range(reps):
            s = DistributedSampler(
                range(n), num_replicas=reps, rank=rank, shuffle=shuffle, seed=seed, drop_last=drop
            )
            s.set_epoch(epoch)
            got = list(s)
            assert got == want[rank], (n, reps, rank, drop, shuffle, seed, epoch)
            assert len(s) == len(got)
            assert all(type(i) is int for i in got)


def test_long_epochs():
    s = DistributedSampler(range(100), num_replicas=3, rank=1, seed=42)
    for epoch, digits in enumerate(LONG.split()):
        want = [int(digits[i : i + 2]) for i in range(0, len(digits), 2)]
        s.set_epoch(epoch)
        assert list(s) == want
        # Iterating again without set_epoch repeats the order.
        assert list(s) == want


def test_attributes():
    s = DistributedSampler(range(10), num_replicas=4, rank=3, drop_last=True)
    assert (s.num_samples, s.total_size, s.epoch, s.seed, s.shuffle) == (2, 8, 0, 0, True)
    s = DistributedSampler(range(10), num_replicas=4, rank=3)
    assert (s.num_samples, s.total_size) == (3, 12)
    assert isinstance(s, Sampler)
    assert tg.utils.data.DistributedSampler is DistributedSampler


@pytest.mark.parametrize(
    "reps, rank, message",
    [
        (2, 3, "Invalid rank 3, rank should be in the interval [0, 1]"),
        (2, -1, "Invalid rank -1, rank should be in the interval [0, 1]"),
        (2, 2, "Invalid rank 2, rank should be in the interval [0, 1]"),
        (0, 0, "Invalid rank 0, rank should be in the interval [0, -1]"),
        (-1, 0, "Invalid rank 0, rank should be in the interval [0, -2]"),
    ],
)
def test_bad_rank(reps, rank, message):
    with pytest.raises(ValueError) as info:
        DistributedSampler(range(5), num_replicas=reps, rank=rank)
    assert str(info.value) == message


def test_other_errors():
    with pytest.raises(TypeError, match="has no len"):
        DistributedSampler(iter([1]), num_replicas=2, rank=0)
    with pytest.raises(TypeError, match="slice indices must be integers"):
        list(DistributedSampler(range(5), num_replicas=2, rank=0.5))
    with pytest.raises(TypeError, match="unsupported operand"):
        list(DistributedSampler(range(5), num_replicas=2, rank=0, seed=None))
    data = list(range(6))
    s = DistributedSampler(data, num_replicas=2, rank=0, drop_last=True)
    data.pop()
    with pytest.raises(AssertionError) as info:
        iter(s)
    assert str(info.value) == "Number of indices (5) does not match total_size (6)"


def _fake_dist(monkeypatch, available, world_size=4, rank=2):
    fake = types.ModuleType("tapegrad.distributed")
    fake.is_available = lambda: available
    fake.get_world_size = lambda: world_size
    fake.get_rank = lambda: rank
    # Both places `from tapegrad import distributed` looks, whether or not the real one exists.
    monkeypatch.setattr(tg, "distributed", fake, raising=False)
    monkeypatch.setitem(sys.modules, "tapegrad.distributed", fake)


def test_defaults_from_distributed(monkeypatch):
    _fake_dist(monkeypatch, True)
    s = DistributedSampler(range(10), shuffle=False)
    assert (s.num_replicas, s.rank, list(s)) == (4, 2, [2, 6, 0])
    s = DistributedSampler(range(10), rank=0, shuffle=False)
    assert (s.num_replicas, s.rank) == (4, 0)
    _fake_dist(monkeypatch, True, world_size=2, rank=5)
    with pytest.raises(
        ValueError, match=r"Invalid rank 5, rank should be in the interval \[0, 1\]"
    ):
        DistributedSampler(range(10))


@pytest.mark.parametrize("given", [{}, {"num_replicas": 2}, {"rank": 0}])
def test_distributed_unavailable(monkeypatch, given):
    _fake_dist(monkeypatch, False)
    with pytest.raises(RuntimeError) as info:
        DistributedSampler(range(10), **given)
    assert str(info.value) == "Requires distributed package to be available"


def test_data_loader():
    data = list(range(10, 21))
    s = DistributedSampler(data, num_replicas=3, rank=2, seed=3)
    s.set_epoch(1)
    loader = DataLoader(data, batch_size=2, sampler=s)
    batches = list(loader)
    assert [b.tolist() for b in batches] == [[16, 17], [13, 20]]
    assert batches[0].dtype == tg.int64
    assert len(loader) == 2
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(data, sampler=s, shuffle=True)
